import type { OutputTag } from '../../core/output-tag.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { hasTimestamp, type Batch } from '../../runtime/batch.js';
import { KeyedOperator } from '../../runtime/operators/keyed-operator.js';
import { mapState } from '../../state/descriptors.js';
import type { Key, MapState } from '../../state/types.js';

/** Everything a temporal join step needs, fixed when the job is built (see `temporalJoin` in `api/joins/`). */
export interface TemporalJoinSpec<P, V, K extends Key, O> {
  readonly probeKey: (probe: P) => K;
  readonly versionKey: (version: V) => K;
  /** `'inner'`: a probe record without a valid version gives nothing; `'left'`: it is joined with `undefined`. */
  readonly kind: 'inner' | 'left';
  readonly join: (probe: P, version: V | undefined) => O;
  /** The time from which a version is valid; undefined: its event timestamp. */
  readonly versionTime?: ((version: V) => number) | undefined;
  /** Whether a version record is a deletion marker (ends the validity of the one before it). */
  readonly isDelete?: ((version: V) => boolean) | undefined;
  readonly lateProbes?: OutputTag<P> | undefined;
  readonly lateVersions?: OutputTag<V> | undefined;
}

/** A stored version: the record, or a deletion marker (`{}`). */
interface Stored<V> {
  readonly v?: V;
}

/**
 * The event-time temporal join (Flink's `FOR SYSTEM_TIME AS OF` on a versioned table,
 * `TemporalRowTimeJoinOperator`): input 0 is the probe stream, input 1 the versions.
 * Per key, keyed state holds the probe records not yet passed by the watermark
 * (`temporal-join-probes`, by timestamp) and the versions (`temporal-join-versions`, by
 * the time they become valid), with an event-time timer at each of their times.
 *
 * When the watermark `w` (the lower of the two inputs') passes a probe record at `t`, it
 * is joined with the version of greatest time `<= t` (a version at exactly `t` is valid,
 * Flink's rule; of two versions at one time the later to arrive replaces the other),
 * unless that version is a deletion. Then no record still to come can change that answer:
 * a version at or below `w` is late. For the same reason the versions before the one
 * valid at `w` are dropped (and that one too when it is a deletion): a probe record still
 * to come is after `w`. So the state of a key is bounded by what lies above the watermark.
 *
 * A record at or behind the watermark when it arrives is late: it goes to its side's late
 * output, or is counted in `lateDropped` (the step's late-records metric) and dropped.
 * Pinned by `test/window/join/temporal-join.test.ts` and `temporal-join.property.test.ts`.
 */
export class TemporalJoinOperator<P, V, K extends Key, O> extends KeyedOperator<P | V, K, O> {
  /** Late probe records dropped (no late output for probes). */
  lateProbesDropped = 0;
  /** Late versions dropped (no late output for versions). */
  lateVersionsDropped = 0;
  /** Late records of either side sent to a late output (read by the step's metrics). */
  lateToSideOutput = 0;
  private probes!: MapState<number, P[]>;
  private versions!: MapState<number, Stored<V>>;

  constructor(private readonly spec: TemporalJoinSpec<P, V, K, O>) {
    super();
  }

  /** Late records of either side dropped (read by the step's metrics). */
  get lateDropped(): number {
    return this.lateProbesDropped + this.lateVersionsDropped;
  }

  protected openKeyed(): void {
    const scope = this.openScope(() => this.onTimer());
    this.probes = scope.backend.getState(mapState<number, P[]>('temporal-join-probes'));
    this.versions = scope.backend.getState(mapState<number, Stored<V>>('temporal-join-versions'));
  }

  processBatch(batch: Batch<P | V>, input: number): void {
    if (input === 0) this.forEachKeyed(batch as Batch<P>, this.spec.probeKey, 'probe key selector', (p, ts) => this.probe(p, ts));
    else this.forEachKeyed(batch as Batch<V>, this.spec.versionKey, 'version key selector', (v, ts) => this.version(v, ts));
    this.scope.collector.flush(this.out);
  }

  private probe(p: P, ts: number): void {
    const t = this.timeOf(p, ts, 'probe record');
    if (this.late(p, t, this.spec.lateProbes)) {
      if (!this.spec.lateProbes) this.lateProbesDropped++;
      return;
    }
    const waiting = this.probes.get(t);
    if (waiting) waiting.push(p);
    this.probes.put(t, waiting ?? [p]);
    this.scope.registerEventTimeTimer(t, undefined);
  }

  private version(v: V, ts: number): void {
    const t = this.spec.versionTime ? this.spec.versionTime(v) : this.timeOf(v, ts, 'version');
    if (typeof t !== 'number' || Number.isNaN(t)) {
      throw new SluiceError('NO_TIMESTAMP', `step '${this.runtime.uid}': versionTime returned ${String(t)} for version ${describeRecord(v)}; it must be a number (epoch ms)`, {
        step: this.runtime.uid,
      });
    }
    if (this.late(v, t, this.spec.lateVersions)) {
      if (!this.spec.lateVersions) this.lateVersionsDropped++;
      return;
    }
    this.versions.put(t, this.spec.isDelete?.(v) ? {} : { v });
    // The timer cleans up the versions this one replaces once the watermark passes it.
    this.scope.registerEventTimeTimer(t, undefined);
  }

  /** Whether a record at `t` is at or behind the watermark; a late one goes to `tag` if given. */
  private late<X>(x: X, t: number, tag: OutputTag<X> | undefined): boolean {
    if (t > this.scope.watermark) return false;
    if (tag) {
      this.lateToSideOutput++;
      this.scope.collector.side(tag, x);
    }
    return true;
  }

  private timeOf(x: unknown, ts: number, what: string): number {
    if (hasTimestamp(ts)) return ts;
    throw new SluiceError('NO_TIMESTAMP', `step '${this.runtime.uid}': the temporal join got a ${what} without timestamp: ${describeRecord(x)}`, {
      step: this.runtime.uid,
      hint: 'Assign timestamps and watermarks to both inputs of a temporal join (the watermarks decide when a probe record is joined).',
    });
  }

  /**
   * A timer of the current key: joins its probe records up to the watermark in timestamp
   * order (arrival order within one), then drops the versions no future probe can need.
   * Of several timers of a key that one watermark passes, the first does the work.
   */
  private onTimer(): void {
    const w = this.scope.watermark;
    const times = this.versions.keys().sort((a, b) => a - b);
    const due = this.probes.keys().filter((t) => t <= w).sort((a, b) => a - b);
    const collector = this.scope.collector;
    for (const t of due) {
      const valid = this.validAt(times, t);
      for (const p of this.probes.get(t)!) {
        if (valid === undefined && this.spec.kind === 'inner') continue;
        collector.timestamp = t;
        try {
          collector.collect(this.spec.join(p, valid));
        } catch (error) {
          this.runtime.userError(error, p, t, 'join function');
        }
      }
      this.probes.remove(t);
    }
    // Cleanup: keep the version valid at the watermark (not a deletion) and those after it.
    const current = lastAtOrBefore(times, w);
    for (let i = 0; i < current; i++) this.versions.remove(times[i]!);
    if (current >= 0 && this.versions.get(times[current]!)!.v === undefined) this.versions.remove(times[current]!);
  }

  /** The version valid at `t` among the key's versions at `times` (ascending), undefined when none or deleted. */
  private validAt(times: readonly number[], t: number): V | undefined {
    const i = lastAtOrBefore(times, t);
    return i < 0 ? undefined : this.versions.get(times[i]!)!.v;
  }
}

/** The index of the last of `times` (ascending) that is `<= t`, or -1. */
function lastAtOrBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
