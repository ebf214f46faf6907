import type { ShedSpec } from '../core/load-shedding.js';
import { SluiceError, describeRecord } from '../errors/index.js';
import type { Batch } from './batch.js';

/** A batch split by the shedder: what goes on, and what was shed (undefined when nothing). */
export interface ShedSplit<T> {
  readonly kept: Batch<T>;
  readonly shed: Batch<T> | undefined;
}

/**
 * Applies a source's load shedding (see `LoadShedding`): tells from the backlog and the
 * pipeline's latency whether the source is overloaded, and splits what it reads then.
 * The sample keeps a running count across batches, so a share of `keep` is exact over
 * any stretch of overload and the same input sheds the same records.
 */
export class LoadShedder<T> {
  /** Records seen while overloaded, for the sample's stride. */
  private seen = 0;
  /** Records shed, and whether the last batch was read overloaded: read by the metrics. */
  shedCount = 0;
  overloaded = false;

  constructor(
    private readonly spec: ShedSpec<T>,
    /** The source step's uid, for errors. */
    private readonly uid: string,
  ) {}

  /** Whether overload is told by the reader's backlog (which it must then be able to tell). */
  get needsBacklog(): boolean {
    return this.spec.backlog !== undefined;
  }

  /** Whether the source is overloaded now: `backlog` left to read, `latencyMs` the pipeline took on the last batch. */
  check(backlog: number | undefined, latencyMs: number): boolean {
    const { spec } = this;
    this.overloaded = (spec.backlog !== undefined && backlog !== undefined && backlog > spec.backlog) || (spec.latencyMs !== undefined && latencyMs > spec.latencyMs);
    return this.overloaded;
  }

  /** Splits a batch read while overloaded. */
  split(batch: Batch<T>): ShedSplit<T> {
    const { values, timestamps } = batch;
    const n = values.length;
    const drop = this.dropMask(values);
    const kept: Batch<T> = { values: [], timestamps: [] };
    const shed: Batch<T> = { values: [], timestamps: [] };
    for (let i = 0; i < n; i++) {
      const to = drop[i] ? shed : kept;
      to.values.push(values[i]!);
      to.timestamps.push(timestamps[i]!);
    }
    this.shedCount += shed.values.length;
    return { kept, shed: shed.values.length > 0 ? shed : undefined };
  }

  private dropMask(values: readonly T[]): boolean[] {
    const p = this.spec.policy;
    const n = values.length;
    if ('sample' in p) {
      // Keep record k when the running count of kept records, k × keep, steps up.
      const keep = p.sample;
      const mask = new Array<boolean>(n);
      for (let i = 0; i < n; i++, this.seen++) mask[i] = Math.floor((this.seen + 1) * keep) === Math.floor(this.seen * keep);
      return mask;
    }
    if ('predicate' in p) return values.map((v) => this.call(p.predicate, v, 'shed predicate') === true);
    const priorities = values.map((v) => {
      const priority = this.call(p.dropLowest, v, 'shed priority function');
      if (typeof priority !== 'number' || Number.isNaN(priority)) {
        throw new SluiceError('USER_FUNCTION_FAILED', `step '${this.uid}' (source): the shed priority function returned ${describeRecord(priority)} for record ${describeRecord(v)}; a priority must be a number`, { step: this.uid });
      }
      return priority;
    });
    const order = priorities.map((_, i) => i).sort((a, b) => priorities[a]! - priorities[b]! || b - a);
    const mask = new Array<boolean>(n).fill(false);
    const count = Math.floor(n * p.share);
    for (let j = 0; j < count; j++) mask[order[j]!] = true;
    return mask;
  }

  private call<R>(fn: (value: T) => R, value: T, what: string): R {
    try {
      return fn(value);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SluiceError('USER_FUNCTION_FAILED', `step '${this.uid}' (source): the ${what} threw ${reason} on record ${describeRecord(value)}`, { step: this.uid, cause: error });
    }
  }
}
