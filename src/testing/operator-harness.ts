import type { DeadLetter } from '../runtime/dead-letter-queue.js';
import type {
  BroadcastProcessFunction,
  CoProcessFunction,
  KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  ProcessFunction,
} from '../core/functions.js';
import type { OutputTag } from '../core/output-tag.js';
import type { AsyncMapFunction, AsyncProcessFunction, AsyncStepOptions } from '../core/async-function.js';
import { asyncConfig } from '../api/async-step.js';
import { AsyncWaitOperator } from '../runtime/operators/async/async-wait.js';
import { compilePattern } from '../cep/nfa-compiler.js';
import { CepOperator } from '../cep/operator.js';
import type { Pattern } from '../cep/pattern.js';
import { DynamicCepOperator, type DynamicPatternProcessFunction, type DynamicTimedOutMatch } from '../cep/dynamic-operator.js';
import type { JsonPattern } from '../cep/pattern-json.js';
import type { PatternUpdate } from '../cep/pattern-update.js';
import type { PatternProcessFunction, TimedOutMatch } from '../cep/pattern-function.js';
import { SluiceError, describeRecord } from '../errors/index.js';
import type { Batch } from '../runtime/batch.js';
import type { Operator, OperatorRuntime } from '../runtime/operator.js';
import { BroadcastProcessOperator } from '../runtime/operators/broadcast-process.js';
import { checkBroadcastDescriptors } from '../runtime/operators/broadcast-state.js';
import { KeyedBroadcastProcessOperator } from '../runtime/operators/keyed-broadcast-process.js';
import { KeyedCoProcessOperator } from '../runtime/operators/keyed-co-process.js';
import { KeyedProcessOperator } from '../runtime/operators/keyed-process.js';
import { ProcessOperator } from '../runtime/operators/process.js';
import { OperatorOutputs, type Output } from '../runtime/output.js';
import type { TimerEntry } from '../runtime/timer-queue.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupRange } from '../state/key-groups.js';
import { MemoryStateBackend } from '../state/memory-backend.js';
import type { Key, KeyedStateBackend, MapStateDescriptor, StateDescriptor, StateOf } from '../state/types.js';
import { ManualClock } from '../time/clock.js';
import type { OutputRecord } from './test-output.js';

/** Options of the {@link OperatorHarness} factories: the step's uid and start time, its error policy and state backend, which parallel instance it is. */
export interface OperatorHarnessOptions {
  /** The step's uid, as errors name it. Default 'under-test'. */
  uid?: string;
  /** Processing time at the start. Default 0. */
  startTime?: number;
  /** `fail` (default): a throw of the function throws from the harness call; `dead-letter`: it is kept in `deadLetters`. */
  onError?: 'fail' | 'dead-letter';
  /** A state backend to test with (default: in memory). */
  stateBackend?: (clock: ManualClock) => KeyedStateBackend;
  /**
   * Which parallel instance the operator is (default: 0 of 1). It then owns the key groups
   * `keyGroupRange(index, parallelism, maxParallelism)`: test restoring at another
   * parallelism with `initializeStateParts`.
   */
  subtask?: { index: number; parallelism: number };
  /** Number of key groups. Default {@link DEFAULT_MAX_PARALLELISM}. */
  maxParallelism?: number;
}

class Collecting implements Output<unknown> {
  readonly records: OutputRecord<unknown>[] = [];
  watermarks: number[] = [];
  ended = false;
  emitBatch(batch: Batch<unknown>): void {
    for (let i = 0; i < batch.values.length; i++) {
      const ts = batch.timestamps[i]!;
      this.records.push({ value: batch.values[i], timestamp: Number.isNaN(ts) ? undefined : ts });
    }
  }
  emitWatermark(watermark: number): void {
    this.watermarks.push(watermark);
  }
  emitIdle(): void {}
  emitEnd(): void {
    this.ended = true;
  }
}

/** Collects every side output the function uses, whatever its tag. */
class CollectingOutputs<O> extends OperatorOutputs<O> {
  constructor(
    main: Output<O>,
    private readonly collectors: Map<string, Collecting>,
  ) {
    super(main, collectors);
  }
  override side(tagId: string): Output<unknown> {
    let c = this.collectors.get(tagId);
    if (c === undefined) this.collectors.set(tagId, (c = new Collecting()));
    return c;
  }
}

/**
 * Drives one step by hand, without a job: push records with timestamps and watermarks,
 * move processing time, then read outputs, side outputs, timers and keyed state. Every
 * call runs synchronously, so assertions follow directly.
 *
 * @example
 * const h = OperatorHarness.keyedProcess(countPerUser, (c: Click) => c.user);
 * h.processElement({ user: 'a' }, 1000);
 * h.processWatermark(2000);
 * expect(h.values).toEqual([['a', 1]]);
 */
export class OperatorHarness<I, O> {
  /** The operator's processing-time clock, from `startTime`; move it with `advanceProcessingTime` or `setProcessingTime`. */
  readonly clock: ManualClock;
  /** What the function threw on, under `onError: 'dead-letter'`. */
  readonly deadLetters: DeadLetter[] = [];
  private readonly main = new Collecting();
  private readonly sides = new Map<string, Collecting>();
  private backend: KeyedStateBackend | undefined;
  private opened = false;
  /** What a callback run inside the task threw (see {@link settle}). */
  private failure: unknown;
  /** Work the operator deferred that has not settled (see {@link blocked}). */
  private pendingDeferred = 0;

  private constructor(
    private readonly operator: Operator<I, O>,
    options: OperatorHarnessOptions,
  ) {
    this.clock = new ManualClock(options.startTime ?? 0);
    const uid = options.uid ?? 'under-test';
    const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    const { index, parallelism } = options.subtask ?? { index: 0, parallelism: 1 };
    const harness = this;
    const rt: OperatorRuntime = {
      uid,
      kind: 'under-test',
      clock: this.clock,
      maxParallelism,
      subtask: { index, parallelism, keyGroups: keyGroupRange(index, parallelism, maxParallelism) },
      exactlyOnce: false,
      executionId: 'harness',
      userError(error, record, timestamp, what) {
        const e =
          error instanceof SluiceError
            ? error
            : new SluiceError('USER_FUNCTION_FAILED', `step '${uid}': the ${what} threw ${String(error)} on record ${describeRecord(record)}`, {
                step: uid,
                cause: error,
              });
        if (options.onError !== 'dead-letter') throw e;
        harness.deadLetters.push({ step: uid, record, error: { code: e.code, message: e.message }, timestamp });
      },
      defer: (work) => {
        this.pendingDeferred++;
        const done = () => void this.pendingDeferred--;
        work.then(done, done);
      },
      runInTask: (callback) => {
        // As a task does: a throw fails it. Here it is kept for settle() to throw.
        try {
          callback();
        } catch (e) {
          this.failure ??= e;
        }
      },
      stateBackend: () =>
        (this.backend ??= options.stateBackend?.(this.clock) ?? new MemoryStateBackend({ clock: this.clock, maxParallelism })),
      scheduleProcessingTime: (at, callback) => this.clock.schedule(at, callback),
    };
    operator.setup(rt, new CollectingOutputs<O>(this.main as Output<O>, this.sides));
  }

  /** A harness for a keyed process function. */
  static keyedProcess<K extends Key, I, O>(
    fn: KeyedProcessFunction<K, I, O>,
    keySelector: (value: I) => K,
    options: OperatorHarnessOptions = {},
  ): OperatorHarness<I, O> {
    return new OperatorHarness<I, O>(new KeyedProcessOperator(fn, keySelector), options);
  }

  /** A harness for a keyed co-process function: input 0 and 1 in `processElement`. */
  static keyedCoProcess<K extends Key, A, B, O>(
    fn: KeyedCoProcessFunction<K, A, B, O>,
    keySelector1: (value: A) => K,
    keySelector2: (value: B) => K,
    options: OperatorHarnessOptions = {},
  ): OperatorHarness<A | B, O> {
    return new OperatorHarness<A | B, O>(new KeyedCoProcessOperator(fn, keySelector1, keySelector2), options);
  }

  /** A harness for a keyed broadcast process function: input 0 is the keyed main input, input 1 the broadcast input. */
  static keyedBroadcastProcess<K extends Key, I, B, O>(
    fn: KeyedBroadcastProcessFunction<K, I, B, O>,
    keySelector: (value: I) => K,
    descriptors: readonly MapStateDescriptor<any, any>[],
    options: OperatorHarnessOptions = {},
  ): OperatorHarness<I | B, O> {
    return new OperatorHarness<I | B, O>(new KeyedBroadcastProcessOperator(fn, keySelector, checkBroadcastDescriptors(descriptors)), options);
  }

  /** A harness for a broadcast process function without keys: input 0 is the main input, input 1 the broadcast input. */
  static broadcastProcess<I, B, O>(
    fn: BroadcastProcessFunction<I, B, O>,
    descriptors: readonly MapStateDescriptor<any, any>[],
    options: OperatorHarnessOptions = {},
  ): OperatorHarness<I | B, O> {
    return new OperatorHarness<I | B, O>(new BroadcastProcessOperator(fn, checkBroadcastDescriptors(descriptors)), options);
  }

  /**
   * A harness for an async step (`asyncMap`): resolve its calls as the test likes, then
   * `await h.settle()` and read the output; time (timeouts, retry pauses) moves with the clock.
   */
  static asyncMap<I, O>(fn: AsyncMapFunction<I, O>, options: AsyncStepOptions<I, O>, harnessOptions: OperatorHarnessOptions = {}): OperatorHarness<I, O> {
    return new OperatorHarness<I, O>(new AsyncWaitOperator<I, O>(asyncConfig<I, O>('asyncMap', fn, options)), { uid: options.uid, ...harnessOptions });
  }

  /** A harness for an async step on a keyed stream (`keyBy(…).asyncMap`), where `perKeyOrder` applies. */
  static keyedAsyncMap<I, O>(
    fn: AsyncMapFunction<I, O>,
    keySelector: (value: I) => unknown,
    options: AsyncStepOptions<I, O>,
    harnessOptions: OperatorHarnessOptions = {},
  ): OperatorHarness<I, O> {
    return new OperatorHarness<I, O>(new AsyncWaitOperator<I, O>(asyncConfig<I, O>('asyncMap', fn, options, keySelector)), { uid: options.uid, ...harnessOptions });
  }

  /** A harness for an async step that gives any number of results per record (`asyncProcess`). */
  static asyncProcess<I, O>(fn: AsyncProcessFunction<I, O>, options: AsyncStepOptions<I, O>, harnessOptions: OperatorHarnessOptions = {}): OperatorHarness<I, O> {
    return new OperatorHarness<I, O>(new AsyncWaitOperator<I, O>(asyncConfig<I, O>('asyncProcess', fn, options)), { uid: options.uid, ...harnessOptions });
  }

  /** A harness for a process function (or co-process function) without keys. */
  static process<I, O>(fn: ProcessFunction<I, O> | CoProcessFunction<any, any, O>, options: OperatorHarnessOptions = {}): OperatorHarness<I, O> {
    return new OperatorHarness<I, O>(new ProcessOperator<I, O>(fn), options);
  }

  /**
   * A harness for a CEP step: `pattern` per key, matches through `fn`. In event time (the
   * default) push records with timestamps and watermarks; with `processingTime`, records
   * match on arrival and `within` runs on the harness's clock.
   *
   * @example
   * const h = OperatorHarness.pattern(fraud, (t: Txn) => t.card, { processMatch: (m, _ctx, out) => out.collect(m.large[0]!) });
   * h.processElement(txn, 1000).processWatermark(2000);
   */
  static pattern<T, N extends string, K extends Key, O>(
    pattern: Pattern<T, N>,
    keySelector: (value: T) => K,
    fn: PatternProcessFunction<T, N, K, O>,
    options: OperatorHarnessOptions & { processingTime?: boolean; lateTag?: OutputTag<T>; timedOutTag?: OutputTag<TimedOutMatch<T, N>> } = {},
  ): OperatorHarness<T, O> {
    const operator = new CepOperator<T, K, O>({
      pattern: compilePattern(pattern as Pattern<T, string>),
      keySelector,
      timeDomain: options.processingTime ? 'processing-time' : 'event-time',
      lateTag: options.lateTag,
      timedOutTag: options.timedOutTag as OutputTag<TimedOutMatch<T, string>> | undefined,
      fn: fn as unknown as PatternProcessFunction<T, string, K, O>,
    });
    return new OperatorHarness<T, O>(operator, options);
  }

  /**
   * A harness for a dynamic CEP step (`keyedStream.patterns(updates)`): input 0 the keyed
   * events, input 1 the {@link PatternUpdate}s. `initial` patterns are active from the start.
   *
   * @example
   * const h = OperatorHarness.dynamicPatterns((t: Txn) => t.card, { processMatch: (m, ctx, out) => out.collect(ctx.patternId) });
   * h.processElement({ op: 'add', id: 'big', pattern: { stages: [{ name: 'big', where: 'amount > 500' }] } }, Number.NaN, 1);
   * h.processElement(txn, 1000).processWatermark(2000);
   */
  static dynamicPatterns<T, K extends Key, O>(
    keySelector: (value: T) => K,
    fn: DynamicPatternProcessFunction<T, K, O>,
    options: OperatorHarnessOptions & {
      processingTime?: boolean;
      initial?: Record<string, JsonPattern | string>;
      lateTag?: OutputTag<T>;
      timedOutTag?: OutputTag<DynamicTimedOutMatch<T>>;
    } = {},
  ): OperatorHarness<T | PatternUpdate, O> {
    const operator = new DynamicCepOperator<T, K, O>({
      keySelector,
      fn,
      timeDomain: options.processingTime ? 'processing-time' : 'event-time',
      initial: options.initial,
      lateTag: options.lateTag,
      timedOutTag: options.timedOutTag,
    });
    return new OperatorHarness<T | PatternUpdate, O>(operator, options);
  }

  /** Any operator (for library authors testing their own operators). */
  static of<I, O>(operator: Operator<I, O>, options: OperatorHarnessOptions = {}): OperatorHarness<I, O> {
    return new OperatorHarness(operator, options);
  }

  /** Gives back state from `snapshot()` (of a harness at the same parallelism). Call before anything opens the operator. */
  initializeState(state: unknown): this {
    this.checkNotOpened('initializeState');
    this.operator.initializeState(state);
    return this;
  }
  /** Gives back the snapshots of every old subtask (restoring at another parallelism: see the `subtask` option). Call before open. */
  initializeStateParts(parts: readonly unknown[]): this {
    this.checkNotOpened('initializeStateParts');
    this.operator.initializeStateParts(parts);
    return this;
  }
  /** The operator's state as checkpoint `checkpointId` would hold it. */
  snapshot(checkpointId = 1): unknown {
    this.open();
    this.operator.prepareSnapshotPreBarrier(checkpointId);
    const state = this.operator.snapshotState(checkpointId);
    if (state instanceof Promise) throw new Error('OperatorHarness: this operator snapshots asynchronously; use snapshotAsync()');
    return state;
  }
  /** {@link snapshot} for an operator that snapshots asynchronously (a sink's pre-commit), where `snapshot()` throws. */
  async snapshotAsync(checkpointId = 1): Promise<unknown> {
    await this.openAsync();
    this.operator.prepareSnapshotPreBarrier(checkpointId);
    return this.operator.snapshotState(checkpointId);
  }
  private checkNotOpened(what: string): void {
    if (this.opened) throw new Error(`OperatorHarness: ${what}() must come before the operator opens (before the first record, watermark or open())`);
  }

  /** Opens the operator (done by the first push if not called). */
  open(): this {
    if (!this.opened) {
      this.opened = true;
      const r = this.operator.open();
      if (r instanceof Promise) throw new Error('OperatorHarness: this operator opens asynchronously; use openAsync()');
    }
    return this;
  }
  /** {@link open} for an operator that opens asynchronously, where `open()` throws: await it before the first push. */
  async openAsync(): Promise<this> {
    if (!this.opened) {
      this.opened = true;
      await this.operator.open();
    }
    return this;
  }

  /** Hands one record (with its event timestamp, if any) to input `input`. */
  processElement(value: I, timestamp = Number.NaN, input = 0): this {
    this.open();
    this.operator.processBatch({ values: [value], timestamps: [timestamp] }, input);
    return this;
  }
  /** Hands several records as one batch. */
  processBatch(records: Iterable<readonly [I, number]>, input = 0): this {
    this.open();
    const values: I[] = [];
    const timestamps: number[] = [];
    for (const [v, t] of records) {
      values.push(v);
      timestamps.push(t);
    }
    this.operator.processBatch({ values, timestamps }, input);
    return this;
  }
  /** Advances the watermark: due event-time timers fire. */
  processWatermark(watermark: number): this {
    this.open();
    this.operator.processWatermark(watermark);
    return this;
  }
  /** Marks the input idle (true) or active again (false). */
  processIdle(idle: boolean): this {
    this.open();
    this.operator.processIdle(idle);
    return this;
  }
  /** Ends the input: the final watermark fires every event-time timer. */
  endInput(): this {
    this.processWatermark(Number.POSITIVE_INFINITY);
    this.operator.endInput();
    return this;
  }
  /** Moves processing time forward: due processing-time timers fire. */
  advanceProcessingTime(ms: number): this {
    this.open();
    this.clock.advance(ms);
    return this;
  }
  /** Moves processing time to `t` (epoch ms; never backwards, which throws): due processing-time timers fire. */
  setProcessingTime(t: number): this {
    this.open();
    this.clock.set(t);
    return this;
  }

  /**
   * Lets promises that have settled run their callbacks (an async operator's results
   * arrive this way); processing time does not move. Await it after resolving a call.
   */
  async settle(): Promise<this> {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failure !== undefined) throw this.failure;
    return this;
  }

  /**
   * Whether the operator holds its task back: work it deferred (a full async queue, a
   * sink's write) has not finished, so a task would take no more input (backpressure).
   */
  get blocked(): boolean {
    return this.pendingDeferred > 0;
  }

  /** Main output records with timestamps, in order. */
  get output(): OutputRecord<O>[] {
    return this.main.records as OutputRecord<O>[];
  }
  /** Main output values, in order. */
  get values(): O[] {
    return this.output.map((r) => r.value);
  }
  /** Takes the main output so far and forgets it. */
  take(): O[] {
    return this.main.records.splice(0).map((r) => r.value as O);
  }
  /** Watermarks the operator sent on. */
  get watermarks(): number[] {
    return this.main.watermarks;
  }
  /** Values sent to a side output. */
  sideOutput<X>(tag: OutputTag<X>): X[] {
    return (this.sides.get(tag.id)?.records ?? []).map((r) => r.value as X);
  }

  /** Reads keyed state of `key` as the function declared it. */
  state<D extends StateDescriptor>(key: Key, descriptor: D): StateOf<D> {
    if (!this.backend) throw new Error('OperatorHarness: this operator has no keyed state');
    this.backend.setCurrentKey(key);
    this.backend.setCurrentNamespace(undefined);
    return this.backend.getState(descriptor);
  }
  /** Keys with live entries in the named state. */
  keys(stateName: string): Key[] {
    return this.backend?.keys(stateName) ?? [];
  }
  /** Pending timers of a keyed operator. */
  timers(): { eventTime: TimerEntry[]; processingTime: TimerEntry[] } {
    const op = this.operator as unknown as { timers?: () => { eventTime: TimerEntry[]; processingTime: TimerEntry[] } };
    if (!op.timers) throw new Error('OperatorHarness: this operator has no timers');
    return op.timers();
  }

  /** Closes the operator (the function's `close` runs); a promise when the operator closes asynchronously. */
  close(): void | Promise<void> {
    return this.operator.close();
  }
}
