import { SluiceError } from '../errors/index.js';
import { BatchBuilder, type Batch } from '../runtime/batch.js';
import { Operator } from '../runtime/operator.js';
import { isKey } from '../runtime/operators/keyed-scope.js';
import type { AggregateFunction, Key } from '../state/types.js';
import type { WindowAssigner } from './assigner.js';
import type { WindowConfig } from './window-spec.js';
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
 * Partials wait in the local step until the watermark is about to let a window holding
 * them fire, or a checkpoint barrier comes ({@link PreAggregateOperator} says when), so a
 * key crosses the exchange about once per slice: a keyed aggregation over many keys
 * scales across cores too, not only one with a hot key. Nothing is checkpointed: the
 * barrier sends them on first. `npm run bench:parallel` and the `window-hot-key` benches
 * measure it.
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

/** gcd(size, slide): every window start and end falls on a slice boundary. */
export function sliceLength(s: Slicing): number {
  let [a, b] = [s.size, s.slide];
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * A partial as the local step makes it: a plain object from this one literal (one shape
 * for all), the mark an own field. Plain, so that partials with number keys and
 * accumulators cross threads as columns (`columnar-codec.ts` takes no class instances).
 */
function partial<K extends Key, ACC>(key: K, acc: ACC): PreAggregated<K, ACC> {
  return { '@sluice/pre-aggregated': true, key, acc }; // PARTIAL, written out: a literal key keeps the literal's one hidden class
}

/**
 * Groups (key, slice) the local step holds at most; one more sends them all on. It bounds
 * the memory of a step with many keys, at the cost of a round of partials per this many.
 */
export const MAX_PENDING_GROUPS = 1 << 16;

/** Past this many keys, the key index is dropped (when no group is pending) rather than kept for keys that may not come back. */
const MAX_INDEXED_KEYS = 1 << 16;

/** Integer keys below this are indexed by array slot (at most this many slots, as keys appear). */
const SMALL_KEYS = 1 << 16;

/**
 * The records of one (key, slice) not sent yet. A key keeps its groups in a chain (one
 * per slice it has pending, and free ones to reuse), so that folding allocates little
 * more than the partials it sends.
 */
class Group {
  /** Holds records not sent yet; a group that is not pending is free for any slice. */
  pending = false;
  start = 0;
  acc: unknown = undefined;
  /** Records folded into `acc`: a group whose every `add` threw sends no partial (it would make an empty window fire). */
  count = 0;
  /** The latest timestamp folded in: the partial's timestamp. */
  ts = 0;
  /** The same key's group for another slice. */
  next: Group | undefined = undefined;
  constructor(readonly key: Key) {}
}

/** The pending groups of one slice, and the watermark at which they must go. */
interface SliceGroups {
  readonly start: number;
  /** The last timestamp of the first window that holds the slice: once the watermark reaches it, that window may fire. */
  readonly dueAt: number;
  readonly groups: Group[];
}

/**
 * The local step: folds records into one partial accumulator per (key, slice) and holds
 * them until they must go, like Flink's local aggregation in mini-batches: so a key sends
 * one partial per slice and per checkpoint, not one per record, and the keyed exchange
 * after this step carries little. Partials go (timestamp: the latest of their records)
 *
 * - when the watermark reaches the last timestamp of the first window holding their slice,
 *   before that watermark: the window step's watermark is never ahead of this one (it is
 *   the minimum over the producing subtasks), so the partial is there before the window
 *   can fire, and is never late;
 * - when a checkpoint barrier arrives, before it ({@link prepareSnapshotPreBarrier}): so
 *   the step has no state to checkpoint, and a restore loses nothing;
 * - when the input turns idle (the window step then stops waiting for this input's
 *   watermark), and at the end of the input;
 * - all at once when more than {@link MAX_PENDING_GROUPS} are pending.
 *
 * Records it does not fold (see the module comment) pass through at once, at the end of
 * their batch. Every record it folds is added at once (none is kept): records held until
 * their window fires would outlive young-generation collections, and V8 would then
 * allocate every record of their source in the old generation (pretenuring), which cost
 * a parallel run a fifth of its speed in mark-compacts.
 */
export class PreAggregateOperator<T, K extends Key, ACC> extends Operator<T, T | PreAggregated<K, ACC>> {
  private readonly slice: number;
  /** Each key's first group: small non-negative integer keys (ids: the common case) by array index, other keys in a Map. */
  private readonly smallIndex: Array<Group | undefined> = [];
  private readonly index = new Map<Key, Group>();
  /** Pending groups by slice start. */
  private readonly pendingSlices = new Map<number, SliceGroups>();
  /** The lowest `dueAt` of the pending slices: a watermark below it sends nothing. */
  private nextDueAt = Number.POSITIVE_INFINITY;
  private pendingGroups = 0;
  private passed!: BatchBuilder<T | PreAggregated<K, ACC>>;

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
    const { keySelector, index, smallIndex, slice } = this;
    const { offset } = this.slicing;
    const passed = (this.passed = new BatchBuilder<T | PreAggregated<K, ACC>>());
    let lastKey: Key | undefined;
    let lastHead: Group | undefined;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      if (!Number.isFinite(ts)) {
        passed.push(v, ts);
        continue;
      }
      let key: Key;
      try {
        key = keySelector(v);
      } catch {
        passed.push(v, ts); // the window step calls the selector again and reports the throw as its own
        continue;
      }
      if (!isKey(key)) {
        passed.push(v, ts);
        continue;
      }
      const start = windowStartFor(ts, slice, offset);
      // A Map lookup was a fifth of this step's CPU; an array slot costs next to nothing.
      const small = typeof key === 'number' && key >>> 0 === key && key < SMALL_KEYS;
      let g = key === lastKey ? lastHead! : small ? smallIndex[key as number] : index.get(key);
      if (g === undefined) {
        g = new Group(key);
        if (small) smallIndex[key as number] = g;
        else index.set(key, g);
      }
      lastKey = key;
      lastHead = g;
      // The key's pending group of the slice, or a free one of its chain.
      let free: Group | undefined;
      for (;;) {
        if (!g.pending) free ??= g;
        else if (g.start === start) break;
        if (g.next === undefined) {
          g = undefined;
          break;
        }
        g = g.next;
      }
      if (g === undefined) {
        if (!this.folds(start)) {
          passed.push(v, ts);
          continue;
        }
        if (free !== undefined) g = free;
        else g = this.lastOfChain(lastHead).next = new Group(key);
        this.take(g, start);
      }
      this.fold(g, v, ts);
    }
    if (passed.length > 0) this.out.main.emitBatch(passed.take());
    if (this.pendingGroups > MAX_PENDING_GROUPS) this.sendAll();
  }

  override processWatermark(watermark: number): void {
    if (watermark >= this.nextDueAt) this.sendDue(watermark);
    super.processWatermark(watermark);
  }

  override processIdle(idle: boolean): void {
    if (idle) this.sendAll();
    super.processIdle(idle);
  }

  override prepareSnapshotPreBarrier(): void {
    this.sendAll();
  }

  override endInput(): void {
    this.sendAll();
    super.endInput();
  }

  private lastOfChain(g: Group): Group {
    while (g.next !== undefined) g = g.next;
    return g;
  }

  private take(g: Group, start: number): void {
    g.pending = true;
    g.start = start;
    g.count = 0;
    let s = this.pendingSlices.get(start);
    if (s === undefined) {
      s = { start, dueAt: this.firstEnd(start) - 1, groups: [] };
      this.pendingSlices.set(start, s);
      if (s.dueAt < this.nextDueAt) this.nextDueAt = s.dueAt;
    }
    s.groups.push(g);
    this.pendingGroups++;
  }

  /** Adds a record to the group's accumulator (made at the first), or passes it through when `add` throws. */
  private fold(g: Group, v: T, ts: number): void {
    const fn = this.fn;
    const first = g.count === 0;
    try {
      g.acc = fn.add(v, (first ? fn.createAccumulator() : g.acc) as ACC);
    } catch {
      this.passed.push(v, ts); // the window step's add throws again, under its uid and error policy
      return;
    }
    g.count++;
    if (first || ts > g.ts) g.ts = ts;
  }

  /** Sends the slices due at `watermark`, oldest first. */
  private sendDue(watermark: number): void {
    const due = [...this.pendingSlices.values()].filter((s) => s.dueAt <= watermark).sort((a, b) => a.start - b.start);
    this.send(due);
  }

  private sendAll(): void {
    if (this.pendingGroups === 0) return;
    this.send([...this.pendingSlices.values()].sort((a, b) => a.start - b.start));
  }

  private send(slices: readonly SliceGroups[]): void {
    const out = new BatchBuilder<T | PreAggregated<K, ACC>>();
    for (const s of slices) {
      for (const g of s.groups) {
        if (g.count > 0) out.push(partial(g.key as K, g.acc as ACC), g.ts);
        g.pending = false;
        g.acc = undefined; // the window step owns it now
      }
      this.pendingGroups -= s.groups.length;
      this.pendingSlices.delete(s.start);
    }
    this.nextDueAt = Number.POSITIVE_INFINITY;
    for (const s of this.pendingSlices.values()) if (s.dueAt < this.nextDueAt) this.nextDueAt = s.dueAt;
    if (this.pendingGroups === 0 && this.index.size > MAX_INDEXED_KEYS) this.index.clear();
    if (out.length > 0) this.out.main.emitBatch(out.take());
  }

  /** The end of the first window that holds the slice starting at `start`. Same arithmetic as `SlicingWindowOperator`. */
  private firstEnd(start: number): number {
    const { size, slide, offset } = this.slicing;
    return windowStartFor(start - size, slide, offset) + slide + size;
  }

  /**
   * Whether the records of the slice starting at `start` are folded: the slice lies in a
   * window (not in a gap), and the first window holding it has not reached the
   * watermark, so the window step will only add them (no late drop, no re-firing).
   */
  private folds(start: number): boolean {
    const { size, slide, offset } = this.slicing;
    const lastEnd = windowStartFor(start, slide, offset) + size;
    if (lastEnd <= start) return false;
    return this.firstEnd(start) - 1 > this.watermark;
  }
}

/** What explain() says of the local step. */
export function describePreAggregate(assigner: WindowAssigner<unknown>, uid: string): string {
  return `partial accumulators per key and ${sliceLength(assigner.slicing!)}ms slice, for '${uid}'`;
}
