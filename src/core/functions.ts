import type { BroadcastState, Key, MapStateDescriptor, ReadOnlyBroadcastState, StateDescriptor, StateOf } from '../state/types.js';
import type { OutputTag } from './output-tag.js';

/** Sends results downstream. The result gets the timestamp of the record (or timer) being handled. */
export interface Collector<O> {
  /** Emits `value` with the timestamp of the record or timer being handled (none if the record has none). */
  collect(value: O): void;
  /**
   * Emits with an explicit event timestamp instead of the current record's (a join's
   * result carries the later of its two inputs' times, as in Flink).
   */
  collectAt(value: O, timestamp: number): void;
}

/** Given to a function's `open`: declare state here. */
export interface OpenContext {
  /** The step's uid. */
  readonly uid: string;
  /** Declares (or gets) keyed state. Only in steps after `keyBy`. */
  state<D extends StateDescriptor>(descriptor: D): StateOf<D>;
}

/** Event-time and processing-time timers of the current key. */
export interface TimerService {
  /** The step's event-time watermark (epoch ms); {@link MIN_WATERMARK} before the first one. */
  currentWatermark(): number;
  /** The job's clock, in epoch ms (a `ManualClock` in tests). */
  currentProcessingTime(): number;
  /** Calls `onTimer` once the watermark reaches `timestamp`. Registering the same time twice keeps one timer. */
  registerEventTimeTimer(timestamp: number): void;
  /** Deletes the current key's event-time timer at `timestamp`; nothing happens when there is none. */
  deleteEventTimeTimer(timestamp: number): void;
  /** Calls `onTimer` once the job's clock reaches `timestamp`. */
  registerProcessingTimeTimer(timestamp: number): void;
  /** Deletes the current key's processing-time timer at `timestamp`; nothing happens when there is none. */
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** What a function sees while it handles a record. */
export interface ProcessContext {
  /** The record's event timestamp, or undefined when it has none. */
  readonly timestamp: number | undefined;
  /**
   * The step's event-time watermark (epoch ms): records at or before it are late.
   * {@link MIN_WATERMARK} before the first watermark arrives.
   */
  currentWatermark(): number;
  /** The job's clock, in epoch ms (a `ManualClock` in tests). */
  currentProcessingTime(): number;
  /** Sends a value to a side output. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** What a keyed function sees while it handles a record: its key and timers too. */
export interface KeyedProcessContext<K extends Key> extends ProcessContext {
  /** The key of the record (or timer) being handled: the key that state and timers are under. */
  readonly key: K;
  /** Timers of the current key. */
  readonly timerService: TimerService;
}

/** What a keyed function sees when a timer fires. */
export interface OnTimerContext<K extends Key> extends KeyedProcessContext<K> {
  /** Which kind of timer fired. */
  readonly timeDomain: 'event-time' | 'processing-time';
}

/**
 * A function over a stream that is not keyed: each record in, any number out.
 *
 * @example
 * const split: ProcessFunction<string, string> = { processElement(line, _ctx, out) { for (const w of line.split(' ')) out.collect(w); } };
 */
export interface ProcessFunction<I, O> {
  /** Called before the first record, in each parallel instance of the step and again after a restart. */
  open?(ctx: OpenContext): void;
  /** Handles one record: results go to `out`, side outputs through `ctx.output`. A throw fails the job or dead-letters the record, as the step's `onError` says. */
  processElement: (value: I, ctx: ProcessContext, out: Collector<O>) => void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

/**
 * The general keyed step: per-key state and timers (Flink's `KeyedProcessFunction`).
 *
 * @example
 * // Counts clicks per user and reports the count a minute after a user's last click.
 * const countThenReport: KeyedProcessFunction<string, Click, [string, number]> = {
 *   open(ctx) { this.count = ctx.state(valueState<number>('count')); },
 *   processElement(click, ctx) {
 *     this.count!.update((this.count!.value() ?? 0) + 1);
 *     ctx.timerService.registerEventTimeTimer(click.at + 60_000);
 *   },
 *   onTimer(ts, ctx, out) { out.collect([ctx.key, this.count!.value() ?? 0]); },
 * } as KeyedProcessFunction<string, Click, [string, number]> & { count?: ValueState<number> };
 */
export interface KeyedProcessFunction<K extends Key, I, O> {
  /**
   * Called before the first record, in each parallel instance of the step and again
   * after a restart: declare state here, open what the function needs.
   */
  open?(ctx: OpenContext): void;
  /**
   * Handles one record, with its key's state and timers current. A throw fails the job or dead-letters the record, as the step's `onError` says.
   */
  processElement: (value: I, ctx: KeyedProcessContext<K>, out: Collector<O>) => void;
  /**
   * A timer of the current key fired: an event-time one once the watermark reached
   * `timestamp` (the end of a bounded input fires them all), a processing-time one once the
   * clock did. Results carry `timestamp` as their event time.
   */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

/** Two inputs of different types into one output, not keyed. */
export interface CoProcessFunction<I1, I2, O> {
  /** Called before the first record, in each parallel instance of the step and again after a restart. */
  open?(ctx: OpenContext): void;
  /** Handles a record of the first input (the stream `connect` was called on). A throw fails the job or dead-letters the record, as the step's `onError` says. */
  processElement1: (value: I1, ctx: ProcessContext, out: Collector<O>) => void;
  /** Handles a record of the second input (the stream given to `connect`). A throw fails the job or dead-letters the record, as the step's `onError` says. */
  processElement2: (value: I2, ctx: ProcessContext, out: Collector<O>) => void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

/** Two keyed inputs sharing the key's state and timers (joins, enrichment with a changing table). */
export interface KeyedCoProcessFunction<K extends Key, I1, I2, O> {
  /**
   * Called before the first record, in each parallel instance of the step and again
   * after a restart: declare state here, open what the function needs.
   */
  open?(ctx: OpenContext): void;
  /** Handles a record of the first input (the stream `connect` was called on), with its key's state and timers current. */
  processElement1: (value: I1, ctx: KeyedProcessContext<K>, out: Collector<O>) => void;
  /** Handles a record of the second input (the stream given to `connect`), with its key's state and timers current. */
  processElement2: (value: I2, ctx: KeyedProcessContext<K>, out: Collector<O>) => void;
  /**
   * A timer of the current key fired: an event-time one once the watermark reached
   * `timestamp` (the end of a bounded input fires them all), a processing-time one once the
   * clock did. Results carry `timestamp` as their event time.
   */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

/** What a broadcast function sees while it handles a record of the main input: broadcast state, read only. */
export interface BroadcastReadOnlyContext extends ProcessContext {
  /** The broadcast state named by `descriptor` (one given to `broadcast(…)`), read only. */
  getBroadcastState<MK, V>(descriptor: MapStateDescriptor<MK, V>): ReadOnlyBroadcastState<MK, V>;
}

/** What a broadcast function sees while it handles a broadcast record: broadcast state it may change. */
export interface BroadcastContext extends ProcessContext {
  /** The broadcast state named by `descriptor` (one given to `broadcast(…)`). */
  getBroadcastState<MK, V>(descriptor: MapStateDescriptor<MK, V>): BroadcastState<MK, V>;
}

/** A keyed broadcast function on a main-input record: its key, timers and keyed state, broadcast state read only. */
export interface KeyedBroadcastReadOnlyContext<K extends Key> extends KeyedProcessContext<K>, BroadcastReadOnlyContext {}

/** A keyed broadcast function when a timer fires: broadcast state read only. */
export interface KeyedBroadcastOnTimerContext<K extends Key> extends OnTimerContext<K>, BroadcastReadOnlyContext {}

/**
 * A keyed broadcast function on a broadcast record: there is no current key (nor
 * timers); the keyed state of every key is reached through `applyToKeyedState`.
 */
export interface KeyedBroadcastContext<K extends Key> extends BroadcastContext {
  /**
   * Calls `fn` with each key that has state under `descriptor` on this parallel instance,
   * and that key's state (read it, change it, clear it). Keys of other instances are
   * visited by those instances, which get the same broadcast record.
   */
  applyToKeyedState<D extends StateDescriptor>(descriptor: D, fn: (key: K, state: StateOf<D>) => void): void;
}

/**
 * A step over a stream that is not keyed and a broadcast stream (Flink's
 * `BroadcastProcessFunction`): broadcast records fill broadcast state on every parallel
 * instance; main records read it. Made by `stream.connect(other.broadcast(descriptor)).process(fn, { uid })`.
 *
 * The two inputs are not ordered with respect to each other: a main record may arrive
 * before the broadcast record that it "should" see. Write functions that tolerate a
 * rule arriving late (keep such records in state until it does, or use a default).
 */
export interface BroadcastProcessFunction<I, B, O> {
  /** Called before the first record, in each parallel instance of the step and again after a restart. */
  open?(ctx: OpenContext): void;
  /** Handles a record of the main input, reading the broadcast state (read only here). */
  processElement: (value: I, ctx: BroadcastReadOnlyContext, out: Collector<O>) => void;
  /**
   * Handles a broadcast record, on every parallel instance: change the broadcast state
   * here, the same way on each (from the record and the state only).
   */
  processBroadcastElement: (value: B, ctx: BroadcastContext, out: Collector<O>) => void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

/**
 * A keyed step that also reads a broadcast stream (Flink's `KeyedBroadcastProcessFunction`):
 * low-volume records (rules, configuration) are broadcast to every parallel instance and
 * kept in broadcast state, which `processElement` reads (and cannot change) while it
 * handles the keyed, high-volume records with their key's state and timers. Made by
 * `keyedStream.connect(other.broadcast(descriptor)).process(fn, { uid })`.
 *
 * Broadcast records and main records are not ordered with respect to each other (as in
 * Flink): a payment may be processed before the rule that was sent earlier. Write rules
 * that tolerate this (keep early records in keyed state and look again when the rule
 * comes, through `applyToKeyedState`). The broadcast input takes part in the step's
 * watermark like any input: give it a watermark strategy, or let it end, or event-time
 * timers wait for it. Keyed state is reachable in `processBroadcastElement` only
 * through `applyToKeyedState` (there is no current key there).
 *
 * @example
 * interface Rule { id: string; maxAmount: number }
 * interface Payment { user: string; amount: number }
 * const rules = mapState<string, Rule>('rules');
 * const tooLarge: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
 *   processElement(p, ctx, out) {
 *     for (const rule of ctx.getBroadcastState(rules).values()) {
 *       if (p.amount > rule.maxAmount) out.collect(`${ctx.key} broke ${rule.id}`);
 *     }
 *   },
 *   processBroadcastElement(rule, ctx) {
 *     ctx.getBroadcastState(rules).put(rule.id, rule);
 *   },
 * };
 * payments.keyBy('user').connect(ruleStream.broadcast(rules)).process(tooLarge, { uid: 'too-large' });
 */
export interface KeyedBroadcastProcessFunction<K extends Key, I, B, O> {
  /**
   * Called before the first record, in each parallel instance of the step and again
   * after a restart: declare state here, open what the function needs.
   */
  open?(ctx: OpenContext): void;
  /** Handles a record of the keyed input, with its key's state and timers current; broadcast state is read only here. */
  processElement: (value: I, ctx: KeyedBroadcastReadOnlyContext<K>, out: Collector<O>) => void;
  /**
   * Handles a broadcast record, on every parallel instance: change the broadcast state
   * here, the same way on each. There is no current key: reach keyed state through
   * `ctx.applyToKeyedState`.
   */
  processBroadcastElement: (value: B, ctx: KeyedBroadcastContext<K>, out: Collector<O>) => void;
  /** A timer of the current key fired (as in {@link KeyedProcessFunction.onTimer}); broadcast state is read only here. */
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<O>): void;
  /** Called once when the step's task ends, whether the job finished, failed or was cancelled: release what `open` took. */
  close?(): void;
}

// Element handlers are declared as function-typed properties, not methods, so that the
// type checker compares their parameters strictly: a function written for a stream of U
// cannot be wired to a stream of T (methods would be compared bivariantly).
