import type { Collector } from '../core/functions.js';
import { hasTimestamp, type Batch } from '../runtime/batch.js';
import { WindowStepOperator } from './window-step.js';
import { invalidKeyError, isKey } from '../runtime/operators/keyed-scope.js';
import { valueState } from '../state/descriptors.js';
import type { Key, Namespace, ValueState } from '../state/types.js';
import type { WindowSpec } from './window-spec.js';
import type { FiringTiming, ProcessWindowFunction, WindowResult } from './window-function.js';
import { WindowCtx, scopedState } from './window-context.js';
import { timeWindow, windowStartFor } from './window.js';
import type { StateDescriptor, StateOf } from '../state/types.js';

/**
 * Whether a window step can run on slices: aligned windows (tumbling, sliding) with the
 * assigner's own trigger, no evictor, and an incremental function (reduce, or an
 * aggregate that can merge when windows overlap).
 */
export function canSlice(spec: WindowSpec<any, any, any>, defaultTrigger: boolean): boolean {
  const s = spec.assigner.slicing;
  if (!s || !defaultTrigger || spec.evictor || spec.fn.kind === 'process') return false;
  if (spec.fn.kind === 'aggregate' && s.slide !== s.size && typeof spec.fn.aggregate.merge !== 'function') return false;
  return true;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Aligned windows computed on slices (panes): a record updates one accumulator, that of
 * its slice of length gcd(size, slide); a window's result combines the slices it covers
 * when it fires. A sliding window of size/slide = 60 thus costs one update per record,
 * not 60. Semantics are those of {@link WindowOperator} with the assigner's default
 * trigger: fire when the watermark (or clock) passes the window's end, re-fire on late
 * records within the allowed lateness, late-data side output beyond it. The property
 * tests compare both operators with a batch reference (`test/window/*.property.test.ts`).
 *
 * State: the slice accumulator under namespace = slice start; with allowed lateness, a
 * firing count under namespace = window end. One event-time (or processing-time) timer
 * per key at the end of the next window to fire.
 */
export class SlicingWindowOperator<T, K extends Key, O> extends WindowStepOperator<T, K, O> {
  private slices!: ValueState<unknown>;
  private firings: ValueState<number> | undefined;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly slice: number;
  private readonly lateness: number;
  private readonly eventTime: boolean;
  constructor(spec: WindowSpec<T, K, O>, keySelector: (value: T) => K) {
    super(spec, keySelector);
    const s = spec.assigner.slicing!;
    this.size = s.size;
    this.slide = s.slide;
    this.offset = s.offset;
    this.slice = gcd(s.size, s.slide);
    this.eventTime = spec.assigner.isEventTime;
    this.lateness = this.eventTime ? spec.allowedLatenessMs : 0;
  }

  protected openKeyed(): void {
    this.openScope((ts) => this.onTimer(ts));
    this.slices = this.scope.backend.getState(valueState<unknown>('window-slices'));
    if (this.lateness > 0) this.firings = this.scope.backend.getState(valueState<number>('window-firings'));
    this.spec.fn.process?.open?.(this.scope.openContext);
  }

  processBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const scope = this.scope;
    const backend = scope.backend;
    const slices = this.slices;
    const fn = this.spec.fn;
    const sliceLen = this.slice;
    const offset = this.offset;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      try {
        const key = this.keySelector(v);
        if (!isKey(key)) throw invalidKeyError(this.runtime.uid, key, v);
        scope.setKey(key, ts);
        let time = ts;
        if (this.eventTime) {
          if (!hasTimestamp(ts)) throw this.noTimestamp(v);
        } else {
          time = this.runtime.clock.now();
        }
        // Windows holding `time` end at firstEnd, firstEnd + slide, …, lastEnd.
        const lastEnd = windowStartFor(time, this.slide, offset) + this.size;
        const wm = this.eventTime ? scope.watermark : Number.NEGATIVE_INFINITY;
        if (lastEnd <= time) {
          // In a gap (size < slide): no window holds it. Late only by its own timestamp,
          // as in WindowOperator and Flink (`windows.property.test.ts`, sliding with gaps).
          if (time + this.lateness <= wm) this.late(v);
          continue;
        }
        if (lastEnd - 1 + this.lateness <= wm) {
          this.late(v);
          continue;
        }
        const sliceStart = windowStartFor(time, sliceLen, offset);
        backend.setCurrentNamespace(sliceStart);
        const acc = slices.value();
        if (fn.kind === 'aggregate') {
          slices.update(fn.aggregate.add(v, acc === undefined ? fn.aggregate.createAccumulator() : acc));
        } else {
          slices.update(acc === undefined ? v : (fn as { reduce: (a: T, b: T) => T }).reduce(acc as T, v));
        }
        backend.setCurrentNamespace(undefined);
        // The first window holding `time` that has not fired yet gets the key's timer.
        let end = this.firstEnd(time);
        if (end - 1 <= wm) {
          this.refireLate(time, wm);
          end = Math.max(end, this.nextEndAfter(wm));
        } else if (acc !== undefined) {
          // The slice existed: the timer of its next window is armed already (when the slice
          // was made, and by onTimer after each window it is in), since every time in a
          // slice lies in the same windows.
          continue;
        }
        if (end > lastEnd) continue;
        if (this.eventTime) scope.registerEventTimeTimer(end - 1, undefined);
        else scope.registerProcessingTimeTimer(end - 1, undefined);
      } catch (error) {
        this.runtime.userError(error, v, ts, 'window step');
      }
    }
    scope.collector.flush(this.out);
  }

  /** The end of the first window that holds `time`. */
  private firstEnd(time: number): number {
    return windowStartFor(time - this.size, this.slide, this.offset) + this.slide + this.size;
  }
  /** The end of the first window whose last timestamp is after `t`. */
  private nextEndAfter(t: number): number {
    let end = windowStartFor(t + 1 - this.size, this.slide, this.offset) + this.size;
    while (end - 1 <= t) end += this.slide;
    return end;
  }
  private isWindowEnd(end: number): boolean {
    return windowStartFor(end - this.size, this.slide, this.offset) === end - this.size;
  }

  /** A record within the allowed lateness: windows holding it that already fired fire again. */
  private refireLate(time: number, wm: number): void {
    const lastEnd = windowStartFor(time, this.slide, this.offset) + this.size;
    // Latest window first, as Flink's sliding assigner lists a record's windows and the
    // general operator re-fires them (issue 23: both paths emit in one order).
    for (let end = lastEnd, first = this.firstEnd(time); end >= first; end -= this.slide) {
      if (end - 1 <= wm && end - 1 + this.lateness > wm) this.fire(end, true);
    }
  }

  /**
   * A timer at `ts`: fire the window ending at ts + 1 (when `ts` is a window's last
   * timestamp rather than only a clean-up time), drop slices that no window can use any
   * more, and arm the next timer of this key. Timers fire in time order, so every window
   * that ends by `ts` has fired.
   */
  private onTimer(ts: number): void {
    const end = ts + 1;
    if (this.slide === this.size && this.lateness === 0) {
      // Tumbling without lateness: the window is its one slice, and every record armed its
      // own window's timer. Fire it and drop it; nothing else to look at.
      this.fire(end, false, [end - this.size]);
      this.dropSlice(end - this.size);
      return;
    }
    const starts = this.sliceStarts();
    if (this.isWindowEnd(end)) this.fire(end, false, starts);
    const following = this.nextEndAfter(ts);
    let next = Number.POSITIVE_INFINITY;
    let cleanup = Number.POSITIVE_INFINITY;
    for (const s of starts) {
      const lastEnd = windowStartFor(s, this.slide, this.offset) + this.size;
      if (lastEnd - 1 + this.lateness <= ts) {
        this.dropSlice(s);
        continue;
      }
      const candidate = Math.max(this.firstEnd(s), following);
      if (candidate <= lastEnd && candidate < next) next = candidate;
      if (this.lateness > 0) cleanup = Math.min(cleanup, lastEnd - 1 + this.lateness);
      // Starts ascend, so later slices give no earlier candidate; without lateness there
      // is no clean-up time to find either.
      else if (next !== Number.POSITIVE_INFINITY) break;
    }
    if (this.firings) this.dropFirings(ts);
    for (const t of [next - 1, cleanup]) {
      if (t === Number.POSITIVE_INFINITY) continue;
      if (this.eventTime) this.scope.registerEventTimeTimer(t, undefined);
      else this.scope.registerProcessingTimeTimer(t, undefined);
    }
  }

  private sliceStarts(): number[] {
    const backend = this.scope.backend;
    const starts = backend.namespaces('window-slices') as number[]; // a fresh array
    // Slices are usually made in time order, so the array is mostly sorted already.
    for (let i = 1; i < starts.length; i++) if (starts[i - 1]! > starts[i]!) return starts.sort((a, b) => a - b);
    return starts;
  }

  private dropSlice(start: number): void {
    const backend = this.scope.backend;
    backend.setCurrentNamespace(start);
    this.slices.clear();
    backend.setCurrentNamespace(undefined);
  }

  private dropFirings(horizon: number): void {
    const backend = this.scope.backend;
    for (const e of backend.namespaces('window-firings') as number[]) {
      if (e - 1 + this.lateness <= horizon) {
        backend.setCurrentNamespace(e);
        this.firings!.clear();
      }
    }
    backend.setCurrentNamespace(undefined);
  }

  /**
   * Combines the slices of window [end - size, end) and emits the result (nothing when
   * empty). `starts`: the key's slice starts in ascending order, when known (only those
   * inside the window are read).
   */
  private fire(end: number, late: boolean, starts?: readonly number[]): void {
    const start = end - this.size;
    const backend = this.scope.backend;
    const fn = this.spec.fn;
    let acc: unknown;
    let any = false;
    const visit = starts ?? this.sliceStarts();
    for (const s of visit) {
      if (s < start || s >= end) continue;
      backend.setCurrentNamespace(s);
      const v = this.slices.value();
      if (v === undefined) continue;
      if (!any) {
        any = true;
        acc = this.slice === this.size ? v : fn.kind === 'aggregate' ? fn.aggregate.merge!(fn.aggregate.createAccumulator(), v) : v;
      } else {
        acc =
          fn.kind === 'aggregate'
            ? // `acc` is this firing's own (merged from a fresh accumulator): it may change in place.
              (fn.aggregate.mergeInto ?? fn.aggregate.merge!)(acc, v)
            : (fn as { reduce: (a: T, b: T) => T }).reduce(acc as T, v as T);
      }
    }
    let isUpdate = false;
    let timing: FiringTiming = 'on-time';
    if (this.firings) {
      backend.setCurrentNamespace(end);
      const n = this.firings.value() ?? 0;
      if (any) this.firings.update(n + 1);
      isUpdate = n > 0;
      if (late) timing = isUpdate ? 'late' : 'on-time';
    }
    backend.setCurrentNamespace(undefined);
    if (!any) return;
    const value = fn.kind === 'aggregate' ? fn.aggregate.getResult(acc) : acc;
    const collector = this.scope.collector;
    collector.timestamp = end - 1;
    const key = this.scope.context.key;
    if (fn.process) {
      const ctx = new WindowCtx<K>(this, key, timeWindow(start, end), timing, isUpdate);
      (fn.process as ProcessWindowFunction<unknown, O, K>).process(key, ctx, [value], collector as Collector<O>);
    } else {
      const result: WindowResult<K | null, unknown> = { key: this.spec.keyed ? key : null, start, end, value, timing, isUpdate };
      collector.collect(result as O);
    }
  }

  /** @internal State under a namespace for window functions' windowState/globalState. */
  scopedState<D extends StateDescriptor>(descriptor: D, ns: Namespace | undefined): StateOf<D> {
    return scopedState(this.scope.backend, descriptor, ns, () => undefined);
  }
}
