import type { Collector } from '../core/functions.js';
import type { OutputTag } from '../core/output-tag.js';
import { SluiceError } from '../errors/index.js';
import { hasTimestamp, type Batch } from '../runtime/batch.js';
import { WindowStepOperator } from './window-step.js';
import type { WindowSpec } from './window-spec.js';
import { valueState } from '../state/descriptors.js';
import type { AggregateFunction, Key, Namespace, StateDescriptor, StateOf, ValueState } from '../state/types.js';
import type { WindowAssigner } from './assigner.js';
import { AggregateContents, ListContents, ReduceContents, type WindowContents } from './contents.js';
import type { Evictor, TimestampedValue } from './evictor.js';
import { fires, purges, type Trigger, type TriggerContext } from './trigger.js';
import type { FiringTiming, ProcessWindowFunction, WindowResult } from './window-function.js';
import { WindowCtx, scopedState } from './window-context.js';
import { MergingWindowSet, type MergeFunction } from './merging-window-set.js';
import { maxTimestamp, timeWindow, windowNamespace, windowOfNamespace, type Window } from './window.js';

interface Firings {
  n: number;
  onTime: boolean;
}

/**
 * The general window operator (Flink's WindowOperator and EvictingWindowOperator in one):
 * assigns each record to windows, keeps per-(key, window) contents, asks the trigger what
 * to do on every record and timer, merges session windows with their state and timers,
 * honours allowed lateness, and sends records too late for any window to the late-data
 * side output (or counts them when there is none).
 *
 * Windows live in state under the namespace `start,end`. A merging assigner's live
 * windows per key are kept in a {@link MergingWindowSet} (state 'merging-windows'), which
 * maps each to the window whose namespace holds its contents; its trigger state and timers
 * stay under its own namespace.
 */
export class WindowOperator<T, K extends Key, O> extends WindowStepOperator<T, K, O> {
  private contents!: WindowContents<T, unknown>;
  private firings!: ValueState<Firings>;
  private sessions: MergingWindowSet | undefined;
  /** Made once: a closure per record costs an allocation on the hot path. */
  private readonly assignerCtx = { currentProcessingTime: () => this.runtime.clock.now() };
  private readonly mergeFn: MergeFunction = (result, merged, stateNs, mergedStateNs) => this.mergeWindows(result, merged, stateNs, mergedStateNs);
  private currentNs: Namespace | undefined;
  private triggerCtx!: TriggerCtx;

  protected openKeyed(): void {
    this.openScope((ts, domain, ns) => this.onTimer(ts, domain, ns!));
    const backend = this.scope.backend;
    const { fn, evictor } = this.spec;
    if (evictor || fn.kind === 'process') this.contents = new ListContents<T>(backend);
    else if (fn.kind === 'reduce') this.contents = new ReduceContents<T>(backend, fn.reduce);
    else this.contents = new AggregateContents(backend, fn.aggregate);
    this.firings = backend.getState(valueState<Firings>('window-firings'));
    if (this.spec.assigner.merging) {
      this.sessions = new MergingWindowSet(backend.getState(valueState<Array<number | string>>('merging-windows')), this.spec.assigner.mergeWindows!);
    }
    this.triggerCtx = new TriggerCtx(this);
    this.setNamespace(undefined);
    const openCtx = this.scope.openContext;
    fn.process?.open?.(openCtx);
  }

  /** @internal Sets the state namespace (and remembers it for scoped state wrappers). */
  setNamespace(ns: Namespace | undefined): void {
    this.currentNs = ns;
    this.scope.backend.setCurrentNamespace(ns);
  }

  processBatch(batch: Batch<T>): void {
    this.forEachKeyed(batch, this.keySelector, 'window step', (v, ts) => this.processElement(v, ts));
    this.scope.collector.flush(this.out);
  }

  private processElement(value: T, ts: number): void {
    const { assigner, trigger } = this.spec;
    let time = ts;
    if (assigner.isEventTime) {
      if (!hasTimestamp(ts)) {
        throw this.noTimestamp(value);
      }
    } else {
      time = this.runtime.clock.now();
    }
    const windows = assigner.assignWindows(value, time, this.assignerCtx);
    if (this.sessions) return this.processMerging(value, ts, windows);
    let accepted = false;
    for (const w of windows) {
      if (this.isWindowLate(w)) continue;
      accepted = true;
      const ns = windowNamespace(w);
      this.setNamespace(ns);
      this.contents.add(value, ts);
      this.triggerCtx.window = w;
      const r = trigger.onElement(value, ts, w, this.triggerCtx);
      if (fires(r)) this.emitWindow(w);
      if (purges(r)) this.purge();
      this.registerCleanupTimer(w, ns);
    }
    this.setNamespace(undefined);
    if (!accepted && assigner.isEventTime && ts + this.spec.allowedLatenessMs <= this.scope.watermark) this.late(value);
  }

  /**
   * A record of a merging assigner (sessions), as Flink's WindowOperator: its window joins
   * the key's {@link MergingWindowSet}, which says which window it ends up in and under
   * which namespace that window's contents live. Extending a session only changes the
   * mapping; contents move only when two sessions with contents merge ({@link mergeWindows}).
   */
  private processMerging(value: T, ts: number, windows: readonly Window[]): void {
    const sessions = this.sessions!;
    const trigger = this.spec.trigger;
    sessions.load();
    let accepted = false;
    for (const w of windows) {
      const actual = sessions.addWindow(w, this.mergeFn);
      if (this.isWindowLate(actual)) {
        // Late and merged with nothing (or, which live windows prevent, merged late): it goes.
        if (sessions.stateNamespaceOf(actual) !== undefined) this.clearWindow(actual, sessions.stateNamespaceOf(actual)!);
        continue;
      }
      accepted = true;
      this.setNamespace(sessions.stateNamespaceOf(actual));
      this.contents.add(value, ts);
      this.triggerCtx.window = actual;
      const r = trigger.onElement(value, ts, actual, this.triggerCtx);
      if (fires(r)) this.emitWindow(actual);
      if (purges(r)) this.purge();
      this.registerCleanupTimer(actual, this.triggerCtx.namespace);
    }
    this.setNamespace(undefined);
    sessions.persist();
    if (!accepted && this.spec.assigner.isEventTime && ts + this.spec.allowedLatenessMs <= this.scope.watermark) this.late(value);
  }

  /**
   * Live windows merged into `result` (Flink's merge function of the WindowOperator): the
   * trigger merges its state and timers into the result, the merged windows' trigger
   * state and cleanup timers go, and the contents and firing history of the other state
   * windows fold into the result's state window.
   */
  private mergeWindows(result: Window, merged: readonly Window[], stateNs: string, mergedStateNs: readonly string[]): void {
    const trigger = this.spec.trigger;
    this.triggerCtx.window = result;
    this.triggerCtx.mergedWindows = merged;
    trigger.onMerge?.(result, this.triggerCtx);
    this.triggerCtx.mergedWindows = [];
    for (const m of merged) {
      this.triggerCtx.window = m;
      trigger.clear(m, this.triggerCtx);
      this.deleteCleanupTimer(m, this.triggerCtx.namespace);
    }
    if (mergedStateNs.length === 0) return;
    this.contents.mergeFrom(mergedStateNs, stateNs, (ns) => this.setNamespace(ns));
    const history = mergedStateNs.map((ns) => {
      this.setNamespace(ns);
      const f = this.firings.value();
      this.firings.clear();
      return f;
    });
    this.setNamespace(stateNs);
    const mine = this.firings.value();
    const fired = [mine, ...history].filter((f): f is Firings => f !== undefined);
    if (fired.length > 0) this.firings.update({ n: Math.max(...fired.map((f) => f.n)), onTime: fired.some((f) => f.onTime) });
  }

  private onTimer(ts: number, domain: 'event-time' | 'processing-time', ns: Namespace): void {
    const w = windowOfNamespace(ns);
    let stateNs: Namespace = ns;
    if (this.sessions) {
      this.sessions.load();
      const found = this.sessions.stateNamespaceOf(w);
      if (found === undefined) return; // merged away or cleaned
      stateNs = found;
    }
    this.setNamespace(stateNs);
    this.triggerCtx.window = w;
    const r =
      domain === 'event-time' ? this.spec.trigger.onEventTime(ts, w, this.triggerCtx) : this.spec.trigger.onProcessingTime(ts, w, this.triggerCtx);
    // A timer of the window's own time domain fires at its own time: the watermark (or
    // clock) may have jumped past several timers at once, and a firing scheduled before the
    // window's end is early even so (see `test/window/operator.test.ts`, continuous trigger).
    if (fires(r)) this.emitWindow(w, (domain === 'event-time') === this.spec.assigner.isEventTime ? ts : undefined);
    if (purges(r)) this.purge();
    if (this.isCleanupTime(w, ts, domain)) this.clearWindow(w, stateNs);
    this.setNamespace(undefined);
    this.sessions?.persist();
  }

  /**
   * Computes and emits the window's result (nothing for an empty window). Namespace is the
   * window's. `at`: the time of the timer that fired it, if any.
   */
  private emitWindow(w: Window, at?: number): void {
    if (this.contents.isEmpty()) return;
    const { fn, evictor } = this.spec;
    const before = this.firings.value();
    const timing = this.timingOf(w, before, at);
    const isUpdate = before !== undefined;
    this.firings.update({ n: (before?.n ?? 0) + 1, onTime: (before?.onTime ?? false) || timing === 'on-time' });
    const collector = this.scope.collector;
    collector.timestamp = maxTimestamp(w);
    const key = this.scope.context.key;
    let input: unknown[];
    if (this.contents instanceof ListContents) {
      let records = this.contents.get() as TimestampedValue<T>[];
      const ectx = { currentWatermark: () => this.scope.watermark, currentProcessingTime: () => this.runtime.clock.now() };
      if (evictor?.evictBefore) records = evictor.evictBefore(records, w, ectx);
      const values = records.map((r) => r.value);
      if (fn.kind === 'reduce') input = values.length ? [values.reduce(fn.reduce)] : [];
      else if (fn.kind === 'aggregate') input = [fn.aggregate.getResult(values.reduce((acc, v) => fn.aggregate.add(v, acc), fn.aggregate.createAccumulator()))];
      else input = values;
      if (evictor?.evictAfter) records = evictor.evictAfter(records, w, ectx);
      if (evictor) this.contents.state.update(records);
      if (input.length === 0 && fn.kind !== 'process') return;
    } else {
      input = [this.contents.get()];
    }
    if (fn.process) {
      const ctx = new WindowCtx<K>(this, key, w, timing, isUpdate);
      fn.process.process(key, ctx, input as never[], collector as Collector<O>);
    } else {
      const result: WindowResult<K | null, unknown> = { key: this.spec.keyed ? key : null, start: w.start, end: w.end, value: input[0], timing, isUpdate };
      collector.collect(result as O);
    }
  }

  /** Drops the window's contents: its next result starts afresh, so it is not an update. */
  private purge(): void {
    this.contents.clear();
    this.firings.clear();
  }

  private timingOf(w: Window, before: Firings | undefined, at: number | undefined): FiringTiming {
    if (!Number.isFinite(w.end)) return 'on-time'; // the global window has no end to be early for
    const now = at ?? (this.spec.assigner.isEventTime ? this.scope.watermark : this.runtime.clock.now());
    if (now < maxTimestamp(w)) return 'early';
    return before?.onTime ? 'late' : 'on-time';
  }

  /** Drops all of a window's state; `stateNs`: where its contents live (its own namespace unless merging). */
  private clearWindow(w: Window, stateNs: Namespace): void {
    this.setNamespace(stateNs);
    this.contents.clear();
    this.firings.clear();
    this.triggerCtx.window = w;
    this.spec.trigger.clear(w, this.triggerCtx);
    const pfn = this.spec.fn.process;
    if (pfn?.clear) pfn.clear(new WindowCtx<K>(this, this.scope.context.key, w, 'on-time', true));
    this.sessions?.retireWindow(w);
  }

  private isWindowLate(w: Window): boolean {
    return this.spec.assigner.isEventTime && this.cleanupTime(w) <= this.scope.watermark;
  }
  private cleanupTime(w: Window): number {
    return this.spec.assigner.isEventTime ? maxTimestamp(w) + this.spec.allowedLatenessMs : maxTimestamp(w);
  }
  private isCleanupTime(w: Window, ts: number, domain: 'event-time' | 'processing-time'): boolean {
    return (domain === 'event-time') === this.spec.assigner.isEventTime && ts === this.cleanupTime(w);
  }
  private registerCleanupTimer(w: Window, ns: Namespace = windowNamespace(w)): void {
    const t = this.cleanupTime(w);
    if (!Number.isFinite(t)) return; // the global window is never cleaned up
    if (this.spec.assigner.isEventTime) this.scope.registerEventTimeTimer(t, ns);
    else this.scope.registerProcessingTimeTimer(t, ns);
  }
  private deleteCleanupTimer(w: Window, ns: Namespace): void {
    const t = this.cleanupTime(w);
    if (this.spec.assigner.isEventTime) this.scope.deleteEventTimeTimer(t, ns);
    else this.scope.deleteProcessingTimeTimer(t, ns);
  }

  /** @internal State under a fixed namespace, whatever the operator's current one. */
  scopedState<D extends StateDescriptor>(descriptor: D, ns: Namespace | undefined): StateOf<D> {
    return scopedState(this.scope.backend, descriptor, ns, () => this.currentNs);
  }
}

class TriggerCtx implements TriggerContext {
  private w: Window = timeWindow(0, 0);
  /** The window's namespace, made once it is asked for (triggers that only return decisions never ask). */
  private cachedNs: string | undefined;
  /** While merging: the windows merged into the current one. */
  mergedWindows: readonly Window[] = [];
  constructor(private readonly op: WindowOperator<any, any, any>) {}
  get window(): Window {
    return this.w;
  }
  set window(w: Window) {
    if (w === this.w) return;
    this.w = w;
    this.cachedNs = undefined;
  }
  /** The current window's namespace. */
  get namespace(): string {
    return (this.cachedNs ??= windowNamespace(this.w));
  }
  private get ns(): string {
    return this.namespace;
  }
  currentWatermark(): number {
    return this.op.timerService.currentWatermark();
  }
  currentProcessingTime(): number {
    return this.op.timerService.currentProcessingTime();
  }
  registerEventTimeTimer(time: number): void {
    this.op.timerService.registerEventTimeTimer(time, this.ns);
  }
  deleteEventTimeTimer(time: number): void {
    this.op.timerService.deleteEventTimeTimer(time, this.ns);
  }
  registerProcessingTimeTimer(time: number): void {
    this.op.timerService.registerProcessingTimeTimer(time, this.ns);
  }
  deleteProcessingTimeTimer(time: number): void {
    this.op.timerService.deleteProcessingTimeTimer(time, this.ns);
  }
  state<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    return this.op.scopedState(descriptor, this.ns);
  }
  mergeState(descriptor: StateDescriptor): void {
    if (descriptor.kind !== 'reducing' && descriptor.kind !== 'list') {
      throw new SluiceError('INVALID_ARGUMENT', `a trigger can merge reducing or list state only, not '${descriptor.kind}' state '${descriptor.name}'`);
    }
    const target = this.op.scopedState(descriptor, this.ns) as { add(v: unknown): void; addAll?(v: unknown[]): void };
    for (const w of this.mergedWindows) {
      const ns = windowNamespace(w);
      const from = this.op.scopedState(descriptor, ns) as { get(): unknown; clear(): void };
      const v = from.get();
      if (descriptor.kind === 'list') target.addAll!(v as unknown[]);
      else if (v !== undefined) target.add(v);
      from.clear();
    }
  }
}
