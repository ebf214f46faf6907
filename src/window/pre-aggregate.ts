import { SluiceError } from '../errors/index.js';
import { BatchBuilder, type Batch } from '../runtime/batch.js';
import { Operator } from '../runtime/operator.js';
import { isKey } from '../runtime/operators/keyed-scope.js';
import type { AggregateFunction, Key } from '../state/types.js';
import type { WindowAssigner } from './assigner.js';
import type { WindowConfig } from './windowed-stream.js';
import { windowStartFor } from './window.js';

/**
 * Two-phase (local-global) aggregation of aligned event-time windows, Flink's answer to
 * a hot key: a local step before the keyed exchange folds each batch's records into one
 * partial accumulator per (key, slice), and the window step after the exchange merges
 * partials instead of adding records. Opt in with
 * `keyed.window(tumbling('1m')).aggregate(count(), { uid: 'counts', preAggregate: true })`.
 *
 * A slice is the aligned pane of length gcd(size, slide) that holds a record's timestamp:
 * all records of a slice belong to exactly the same windows, so their partial does too.
 *
 * Results are those of the one-phase aggregate, firing for firing (the property tests
 * compare both with a batch reference: `test/window/pre-aggregate.property.test.ts`),
 * because the local step folds only records the window step would merely add: it passes
 * every other record through unchanged, and the window step treats it as it would
 * without pre-aggregation. Passed through are records
 * - without a (finite) timestamp: the window step raises NO_TIMESTAMP;
 * - whose key selector throws or returns no valid key, or whose `add` throws: the window
 *   step calls them again and raises (or dead-letters) the same error under its own uid;
 * - in a gap between sliding windows (size < slide): the window step decides whether
 *   they are late;
 * - whose first window has reached the watermark: late records, or records within the
 *   allowed lateness that re-fire windows; so late records are counted (or re-fire) one
 *   by one, as without pre-aggregation.
 *
 * The local step sees the watermark its partials travel ahead of, and the window step's
 * watermark is never ahead of it (it is the minimum over the producing subtasks), so a
 * folded partial is never late downstream. One exception: an input marked idle and then
 * active again, while the window step's watermark moved on without it; a partial from it
 * may then be late downstream, and is counted (or re-fires a window) once, not once per
 * record. For this reason the late-data side output is refused with pre-aggregation: a
 * late partial is not a record of the stream.
 *
 * Stateless across batches (a partial is emitted at the end of the batch that made it,
 * before any later watermark), so nothing is checkpointed.
 */

/** The field that marks a partial accumulator (a plain field: it must survive the copy across worker threads). */
const PARTIAL = '@sluice/pre-aggregated';

/** One (key, slice) of a batch folded into an accumulator, as the local step sends it to the window step. */
export interface PreAggregated<K extends Key, ACC> {
  readonly [PARTIAL]: true;
  readonly key: K;
  readonly acc: ACC;
}

/** Whether a record arriving at the window step is a partial accumulator (rather than a record passed through). */
export function isPreAggregated(value: unknown): value is PreAggregated<Key, unknown> {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[PARTIAL] === true;
}

/** The window step's key selector: a partial's key, or the user's selector on a record passed through. */
export function globalKeySelector<T, K extends Key>(keySelector: (value: T) => K): (value: T | PreAggregated<K, unknown>) => K {
  return (value) => (isPreAggregated(value) ? (value.key as K) : keySelector(value as T));
}

/**
 * The window step's aggregate: merges a partial's accumulator (`merge`, or `mergeInto`
 * since the window owns its accumulator), adds a record passed through; result and
 * merging are the user's.
 */
export function globalAggregate<T, ACC, V>(fn: AggregateFunction<T, ACC, V>): AggregateFunction<T | PreAggregated<Key, ACC>, ACC, V> {
  const merge = fn.merge!;
  const mergeInto = fn.mergeInto ?? merge;
  const global: AggregateFunction<T | PreAggregated<Key, ACC>, ACC, V> = {
    createAccumulator: () => fn.createAccumulator(),
    add: (value, acc) => (isPreAggregated(value) ? mergeInto(acc, value.acc as ACC) : fn.add(value as T, acc)),
    getResult: (acc) => fn.getResult(acc),
    merge: (a, b) => merge(a, b),
  };
  if (fn.mergeInto) global.mergeInto = (a, b) => fn.mergeInto!(a, b);
  return global;
}

/**
 * A reduce function as an aggregate (the accumulator is the reduced value, undefined
 * before the first record), so that `reduce` can be pre-aggregated too. Pre-aggregation
 * regroups the calls, so the function must be associative (as sliding windows need anyway).
 *
 * @example
 * const agg = reduceAggregate((a: number, b: number) => a + b);
 * agg.getResult(agg.merge!(agg.add(1, agg.createAccumulator()), agg.add(2, agg.createAccumulator()))) === 3
 */
export function reduceAggregate<T>(reduce: (a: T, b: T) => T): AggregateFunction<T, T | undefined, T> {
  return {
    createAccumulator: () => undefined,
    add: (value, acc) => (acc === undefined ? value : reduce(acc, value)),
    getResult: (acc) => acc as T,
    merge: (a, b) => (a === undefined ? b : b === undefined ? a : reduce(a, b)),
  };
}

/**
 * Refuses pre-aggregation where it could change results, saying why: it needs `merge`,
 * aligned event-time windows (tumbling, sliding) with their own trigger, no evictor and
 * no late-data side output.
 */
export function checkPreAggregate<T>(config: WindowConfig<T>, fn: AggregateFunction<T, unknown, unknown>, uid: string | undefined, what: string): void {
  const refuse = (reason: string, hint: string) => {
    throw new SluiceError('INVALID_ARGUMENT', `step '${uid}': ${what}() with preAggregate: ${reason}`, { step: uid, hint });
  };
  const drop = 'or drop preAggregate.';
  if (typeof fn.merge !== 'function') {
    refuse(
      'the aggregate function has no merge(), and the window step merges the partial accumulators made before the exchange',
      `Add merge(a, b) to the aggregate function (the built-in aggregates have it), ${drop}`,
    );
  }
  const { assigner } = config;
  if (!assigner.slicing || assigner.merging || !assigner.isEventTime) {
    const why = assigner.merging
      ? "a session window depends on the key's other records, which the step before the exchange does not see"
      : !assigner.slicing
        ? 'its windows are not aligned, so records cannot be grouped by the windows they fall in before the exchange'
        : 'a processing-time window is chosen by the clock when the record reaches the window step, after the exchange';
    refuse(`${assigner.describe()} windows cannot be pre-aggregated: ${why}`, `Use event-time tumbling(size) or sliding(size, slide) windows, ${drop}`);
  }
  if (config.trigger) {
    refuse(
      `a custom trigger (${config.trigger.kind}) sees every record, but the window step gets partial accumulators`,
      `Keep the windows' own trigger (remove .trigger(…)), ${drop}`,
    );
  }
  if (config.evictor) {
    refuse(`an evictor (${config.evictor.kind}) needs a window's records, but only accumulators reach the window step`, `Remove .evictor(…), ${drop}`);
  }
  if (config.lateTag) {
    refuse(
      `the late-data side output is a stream of records, and a partial accumulator that arrives late downstream is not one`,
      `Remove .sideOutputLateData(…) (late records are then counted and dropped), ${drop}`,
    );
  }
}

/** The slice geometry of aligned windows: slices of gcd(size, slide) from the epoch plus the offset. */
export interface Slicing {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}

export function sliceLength(s: Slicing): number {
  let [a, b] = [s.size, s.slide];
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A partial as the local step makes it: one shape for all (a class), the mark an own field. */
class Partial<K extends Key, ACC> implements PreAggregated<K, ACC> {
  readonly [PARTIAL] = true as const;
  constructor(
    readonly key: K,
    readonly acc: ACC,
  ) {}
}

/** Past this many keys, the key index is dropped (between batches) rather than kept for keys that may not come back. */
const MAX_INDEXED_KEYS = 1 << 16;

/**
 * The local step: per batch, folds records into one partial accumulator per (key, slice)
 * and sends the partials (timestamp: the latest of their records) after the records it
 * passes through (see the module comment for which). Stateless across batches.
 *
 * A batch's groups live in slot arrays reused from batch to batch, and the key index
 * keeps its entries between batches (an entry is current when its slot holds its key in
 * this batch), so that a batch allocates little more than its partials.
 */
export class PreAggregateOperator<T, K extends Key, ACC> extends Operator<T, T | PreAggregated<K, ACC>> {
  private readonly slice: number;
  /** Key -> its latest slot; current only when the slot is one of this batch's and holds the key. */
  private readonly index = new Map<Key, number>();
  /** A batch's groups (slots), from 0 in each batch. */
  private readonly slotKey: Key[] = [];
  private readonly slotStart: number[] = [];
  /** Whether the slot's records are folded; otherwise they pass through (late, or in a gap). */
  private readonly slotFolds: boolean[] = [];
  private readonly slotAcc: unknown[] = [];
  /** Records folded in: a slot whose every `add` threw sends no partial (it would make an empty window fire). */
  private readonly slotCount: number[] = [];
  /** The latest timestamp folded in: the partial's timestamp. */
  private readonly slotTs: number[] = [];
  /** The same key's previous slot in this batch (another slice), or -1. */
  private readonly slotNext: number[] = [];

  constructor(
    private readonly fn: AggregateFunction<T, ACC, unknown>,
    private readonly keySelector: (value: T) => K,
    private readonly slicing: Slicing,
  ) {
    super();
    this.slice = sliceLength(slicing);
  }

  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const { fn, keySelector, index, slice, slotKey, slotStart, slotFolds, slotAcc, slotCount, slotTs, slotNext } = this;
    const { offset } = this.slicing;
    const out = new BatchBuilder<T | PreAggregated<K, ACC>>();
    let slots = 0; // slots used by this batch
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      if (!Number.isFinite(ts)) {
        out.push(v, ts);
        continue;
      }
      let key: Key;
      try {
        key = keySelector(v);
      } catch {
        out.push(v, ts); // the window step calls the selector again and reports the throw as its own
        continue;
      }
      if (!isKey(key)) {
        out.push(v, ts);
        continue;
      }
      const start = windowStartFor(ts, slice, offset);
      const latest = index.get(key);
      const current = latest !== undefined && latest < slots && slotKey[latest] === key ? latest : -1;
      let s = current;
      while (s !== -1 && slotStart[s] !== start) s = slotNext[s]!;
      if (s === -1) {
        s = slots++;
        const folds = this.folds(start);
        slotKey[s] = key;
        slotStart[s] = start;
        slotFolds[s] = folds;
        slotAcc[s] = folds ? fn.createAccumulator() : undefined;
        slotCount[s] = 0;
        slotTs[s] = Number.NEGATIVE_INFINITY;
        slotNext[s] = current;
        index.set(key, s);
      }
      if (!slotFolds[s]) {
        out.push(v, ts);
        continue;
      }
      try {
        slotAcc[s] = fn.add(v, slotAcc[s] as ACC);
      } catch {
        out.push(v, ts); // the window step's add throws again, under its uid and error policy
        continue;
      }
      slotCount[s]!++;
      if (ts > slotTs[s]!) slotTs[s] = ts;
    }
    for (let s = 0; s < slots; s++) {
      if (slotFolds[s] && slotCount[s]! > 0) out.push(new Partial(slotKey[s] as K, slotAcc[s] as ACC), slotTs[s]!);
      slotAcc[s] = undefined; // the window step owns it now
    }
    if (index.size > MAX_INDEXED_KEYS) index.clear();
    if (out.length > 0) this.out.main.emitBatch(out.take());
  }

  /**
   * Whether the records of the slice starting at `start` are folded: the slice lies in a
   * window (not in a gap), and the first window holding it has not reached the
   * watermark, so the window step will only add them (no late drop, no re-firing).
   * Same arithmetic as `SlicingWindowOperator`.
   */
  private folds(start: number): boolean {
    const { size, slide, offset } = this.slicing;
    const lastEnd = windowStartFor(start, slide, offset) + size;
    if (lastEnd <= start) return false;
    const firstEnd = windowStartFor(start - size, slide, offset) + slide + size;
    return firstEnd - 1 > this.watermark;
  }
}

/** What explain() says of the local step. */
export function describePreAggregate(assigner: WindowAssigner<unknown>, uid: string): string {
  return `partial accumulators per key and ${sliceLength(assigner.slicing!)}ms slice, for '${uid}'`;
}
