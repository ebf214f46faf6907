/**
 * A small {@link TriggerContext} for testing triggers without the window operator: a
 * watermark, a manual clock, timer sets per window and keyed state from the memory
 * backend (one key, the window as namespace). Exported for reuse by other trigger tests.
 */
import { SluiceError } from '../../../src/errors/index.js';
import { MemoryStateBackend } from '../../../src/state/memory-backend.js';
import type { StateDescriptor, StateOf } from '../../../src/state/types.js';
import { ManualClock } from '../../../src/time/clock.js';
import type { Trigger, TriggerContext, TriggerResult } from '../../../src/window/trigger.js';
import { windowNamespace, windowOfNamespace, type Window } from '../../../src/window/window.js';

/** A timer that came due, and what the trigger decided for it. */
export interface FiredTimer {
  readonly window: Window;
  readonly time: number;
  readonly result: TriggerResult;
}

/**
 * The context a trigger sees for one key. Point it at a window with {@link at} before each
 * call, as the operator would; state and timers then belong to that window.
 *
 * @example
 * const ctx = new FakeTriggerContext();
 * const w = timeWindow(0, 10);
 * eventTimeTrigger().onElement('a', 3, w, ctx.at(w)); // 'continue'
 * ctx.eventTimers(w); // [9]
 * ctx.advanceWatermark(9, eventTimeTrigger()); // [{ window: w, time: 9, result: 'fire' }]
 */
export class FakeTriggerContext implements TriggerContext {
  readonly clock: ManualClock;
  readonly backend: MemoryStateBackend;
  watermark: number;
  private window: Window | undefined;
  private mergeSources: readonly Window[] = [];
  private readonly eventTimersByWindow = new Map<string, Set<number>>();
  private readonly processingTimersByWindow = new Map<string, Set<number>>();

  constructor(options: { watermark?: number; now?: number; key?: string } = {}) {
    this.watermark = options.watermark ?? Number.NEGATIVE_INFINITY;
    this.clock = new ManualClock(options.now ?? 0);
    this.backend = new MemoryStateBackend({ clock: this.clock });
    this.backend.setCurrentKey(options.key ?? 'key');
  }

  /** Makes `window` the current window (for state and timers) and returns this context. */
  at(window: Window): this {
    this.window = window;
    this.backend.setCurrentNamespace(windowNamespace(window));
    return this;
  }

  /** Makes `target` current and names the windows merged into it, for `onMerge`'s `mergeState`. */
  merging(sources: readonly Window[], target: Window): this {
    this.mergeSources = sources;
    return this.at(target);
  }

  currentWatermark(): number {
    return this.watermark;
  }
  currentProcessingTime(): number {
    return this.clock.now();
  }
  registerEventTimeTimer(time: number): void {
    this.timersOf(this.eventTimersByWindow).add(time);
  }
  deleteEventTimeTimer(time: number): void {
    this.timersOf(this.eventTimersByWindow).delete(time);
  }
  registerProcessingTimeTimer(time: number): void {
    this.timersOf(this.processingTimersByWindow).add(time);
  }
  deleteProcessingTimeTimer(time: number): void {
    this.timersOf(this.processingTimersByWindow).delete(time);
  }

  state<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    this.current();
    return this.backend.getState(descriptor);
  }

  /** Folds the state of the windows named by {@link merging} into the current window and clears theirs (as Flink's mergeNamespaces). */
  mergeState(descriptor: StateDescriptor): void {
    const target = this.current();
    if (descriptor.kind !== 'reducing' && descriptor.kind !== 'list') {
      throw new SluiceError('INVALID_ARGUMENT', `FakeTriggerContext merges reducing and list state only, not ${descriptor.kind} state '${descriptor.name}'`);
    }
    const values: unknown[] = [];
    for (const source of this.mergeSources) {
      if (windowNamespace(source) === windowNamespace(target)) continue;
      this.at(source);
      const s = this.backend.getState(descriptor) as { get(): unknown; clear(): void };
      const v = s.get();
      if (descriptor.kind === 'list') values.push(...(v as unknown[]));
      else if (v !== undefined) values.push(v);
      s.clear();
    }
    this.at(target);
    const t = this.backend.getState(descriptor) as { add(v: unknown): void };
    for (const v of values) t.add(v);
  }

  /** The event-time timers of `window` (default: the current one), in time order. */
  eventTimers(window?: Window): number[] {
    return [...(this.eventTimersByWindow.get(windowNamespace(window ?? this.current())) ?? [])].sort((a, b) => a - b);
  }
  /** The processing-time timers of `window` (default: the current one), in time order. */
  processingTimers(window?: Window): number[] {
    return [...(this.processingTimersByWindow.get(windowNamespace(window ?? this.current())) ?? [])].sort((a, b) => a - b);
  }

  /**
   * Moves the watermark to `to` and hands each event-time timer that came due (`<= to`,
   * in time order, across windows) to `trigger.onEventTime`. A timer the trigger registers
   * while handling one that is due runs too.
   */
  advanceWatermark(to: number, trigger: Trigger<any>): FiredTimer[] {
    this.watermark = to;
    return this.runDue(this.eventTimersByWindow, to, (time, w) => trigger.onEventTime(time, w, this));
  }

  /** Moves the clock to `to` and hands each processing-time timer that came due to `trigger.onProcessingTime`. */
  advanceProcessingTime(to: number, trigger: Trigger<any>): FiredTimer[] {
    this.clock.set(to);
    return this.runDue(this.processingTimersByWindow, to, (time, w) => trigger.onProcessingTime(time, w, this));
  }

  private runDue(timers: Map<string, Set<number>>, to: number, call: (time: number, w: Window) => TriggerResult): FiredTimer[] {
    const fired: FiredTimer[] = [];
    for (;;) {
      let next: { ns: string; time: number } | undefined;
      for (const [ns, set] of timers) {
        for (const time of set) if (time <= to && (next === undefined || time < next.time)) next = { ns, time };
      }
      if (next === undefined) return fired;
      timers.get(next.ns)!.delete(next.time);
      if (fired.length >= 10_000) throw new SluiceError('INVALID_ARGUMENT', 'FakeTriggerContext: over 10000 timers fired in one advance; a trigger re-registers a due timer');
      const window = windowOfNamespace(next.ns);
      this.at(window);
      fired.push({ window, time: next.time, result: call(next.time, window) });
    }
  }

  private timersOf(timers: Map<string, Set<number>>): Set<number> {
    const ns = windowNamespace(this.current());
    let set = timers.get(ns);
    if (set === undefined) timers.set(ns, (set = new Set()));
    return set;
  }

  private current(): Window {
    if (this.window === undefined) throw new SluiceError('INVALID_ARGUMENT', 'FakeTriggerContext: call at(window) first');
    return this.window;
  }
}
