import { SluiceError } from '../errors/index.js';
import { KeyedProcessOperator } from '../runtime/operators/keyed-process.js';
import { valueState } from '../state/descriptors.js';
import type { AggregateFunction, Key, ValueState } from '../state/types.js';
import { BroadcastStream, KeyedBroadcastConnectedStream } from './broadcast-stream.js';
import { ConnectedKeyedStreams } from './connected-streams.js';
import { DataStream } from './data-stream.js';
import type { KeyedProcessFunction } from '../core/functions.js';
import type { StatefulStepOptions } from '../core/step-options.js';
import type { AsyncMapFunction, AsyncProcessFunction, AsyncStepOptions } from '../core/async-function.js';
import { addAsyncStep } from './async-step.js';
import type { WindowAssigner } from '../window/assigner.js';
import { countWindowAssigner, slidingCountWindowAssigner } from '../window/count-windows.js';
import { WindowedStream } from './windowed-stream.js';
import { IntervalJoin } from './joins/interval-join.js';
import { temporalJoin, type TemporalJoinOptions } from './joins/temporal-join.js';
import { Pattern } from '../cep/pattern.js';
import { PatternStream } from './pattern-stream.js';
import { DynamicPatternStream } from './dynamic-pattern-stream.js';
import type { PatternUpdate } from '../cep/pattern-update.js';

/**
 * A stream partitioned by key. Steps on it see one key at a time, with that key's state
 * and timers.
 *
 * @example
 * clicks.keyBy((c) => c.user).reduce((a, b) => ({ ...b, n: a.n + b.n }), { uid: 'clicks-per-user' });
 */
export class KeyedStream<T, K extends Key> {
  /** @internal Made by `DataStream.keyBy`. */
  constructor(
    /** The stream before `keyBy`. */
    readonly stream: DataStream<T>,
    /** Gives each record's key: the function given to `keyBy`, or one that reads the named property. */
    readonly keySelector: (value: T) => K,
  ) {}

  /** The general keyed step: state and timers per key. Its uid is required. */
  process<O>(fn: KeyedProcessFunction<K, T, O>, options: StatefulStepOptions): DataStream<O> {
    if (!fn || typeof fn.processElement !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() needs an object with a processElement(value, ctx, out) function');
    }
    return this.keyedStep('process', fn, options, 'keyed process function');
  }

  /**
   * {@link DataStream.asyncMap} after the keyed exchange: each key's records reach the
   * same subtask, so its calls share that subtask's capacity and (ordered) its order.
   * With `perKeyOrder: true`, a key's calls run one at a time, in order.
   *
   * @example
   * clicks.keyBy((c) => c.user).asyncMap(lookupProfile, { uid: 'profiles', timeout: '1s' })
   */
  asyncMap<U>(fn: AsyncMapFunction<T, U>, options: AsyncStepOptions<T, U>): DataStream<U> {
    return new DataStream<U>(this.stream.job, addAsyncStep<T, U>(this.stream.job, this.edge(), 'asyncMap', fn, options, this.keySelector));
  }

  /**
   * {@link DataStream.asyncProcess} after the keyed exchange: any number of results per
   * record.
   *
   * @example
   * users.keyBy('id').asyncProcess(async (u) => fetchOrders(u.id), { uid: 'orders' })
   */
  asyncProcess<U>(fn: AsyncProcessFunction<T, U>, options: AsyncStepOptions<T, U>): DataStream<U> {
    return new DataStream<U>(this.stream.job, addAsyncStep<T, U>(this.stream.job, this.edge(), 'asyncProcess', fn, options, this.keySelector));
  }

  /** A running reduce per key: emits the reduced value after every record. */
  reduce(fn: (accumulated: T, value: T) => T, options: StatefulStepOptions): DataStream<T> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'reduce() needs a function (accumulated, value) => value');
    const state = valueState<T>('reduce');
    let current!: ValueState<T>;
    return this.keyedStep(
      'reduce',
      {
        open: (ctx) => {
          current = ctx.state(state);
        },
        processElement: (value, _ctx, out) => {
          const before = current.value();
          const after = before === undefined ? value : fn(before, value);
          current.update(after);
          out.collect(after);
        },
      },
      options,
      'running reduce',
    );
  }

  /** A running aggregate per key: emits the aggregate's result after every record. */
  aggregate<ACC, R>(fn: AggregateFunction<T, ACC, R>, options: StatefulStepOptions): DataStream<R> {
    if (!fn || typeof fn.add !== 'function' || typeof fn.createAccumulator !== 'function' || typeof fn.getResult !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'aggregate() needs an AggregateFunction with createAccumulator, add and getResult');
    }
    const state = valueState<ACC>('aggregate');
    let acc!: ValueState<ACC>;
    return this.keyedStep(
      'aggregate',
      {
        open: (ctx) => {
          acc = ctx.state(state);
        },
        processElement: (value, _ctx, out) => {
          const before = acc.value();
          const after = fn.add(value, before === undefined ? fn.createAccumulator() : before);
          acc.update(after);
          out.collect(fn.getResult(after));
        },
      },
      options,
      'running aggregate',
    );
  }

  /**
   * Cuts each key's records into windows: tumbling, sliding, session, global or your own
   * assigner. Then give the window function (`reduce`, `aggregate`, `process`).
   */
  window(assigner: WindowAssigner<T>): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.stream, this.edge(), this.keySelector, true, {
      assigner: checkAssigner(assigner),
      allowedLatenessMs: 0,
    });
  }

  /**
   * Count windows: every `size` records of a key form a window (fires when full). With
   * `slide`, a window of the last `size` records fires every `slide` records.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K> {
    const config = slide === undefined ? countWindowAssigner<T>(size) : slidingCountWindowAssigner<T>(size, slide);
    return new WindowedStream<T, K>(this.stream, this.edge(), this.keySelector, true, { ...config, allowedLatenessMs: 0 });
  }

  /**
   * Connects with another stream keyed the same way: a keyed two-input step sharing state
   * and timers. With a {@link BroadcastStream}: a keyed step whose records read the
   * broadcast state (`process` with a keyed broadcast process function).
   */
  connect<U>(other: BroadcastStream<U>): KeyedBroadcastConnectedStream<T, U, K>;
  connect<U>(other: KeyedStream<U, K>): ConnectedKeyedStreams<T, U, K>;
  connect<U>(other: KeyedStream<U, K> | BroadcastStream<U>): ConnectedKeyedStreams<T, U, K> | KeyedBroadcastConnectedStream<T, U, K> {
    if (other instanceof BroadcastStream) return new KeyedBroadcastConnectedStream(this, other);
    return new ConnectedKeyedStreams(this, other);
  }

  /**
   * Interval join with another stream keyed the same way: each pair with
   * `this.ts + lower <= other.ts <= this.ts + upper`, via `.between(lower, upper).process(fn, { uid })`.
   */
  intervalJoin<U>(other: KeyedStream<U, K>): IntervalJoin<T, U, K> {
    return new IntervalJoin(this, other);
  }

  /**
   * Temporal join with a changelog of versions keyed the same way: each record of this
   * stream joined with the version of its key valid at its event time, once the watermark
   * passes it (Flink's `FOR SYSTEM_TIME AS OF`). See {@link temporalJoin}.
   *
   * @example
   * orders.keyBy((o) => o.currency)
   *   .temporalJoin(rates.keyBy((r) => r.currency), { uid: 'order-rates', kind: 'inner', join: (o, r) => o.amount * r.toEur });
   */
  temporalJoin<V, O>(versions: KeyedStream<V, K>, options: TemporalJoinOptions<T, V, O>): DataStream<O> {
    return temporalJoin(this, versions, options);
  }

  /**
   * Complex event processing: runs `pattern` over each key's events (Flink's
   * `CEP.pattern(keyedStream, pattern)`). Then `select` or `process` the matches.
   *
   * @example
   * txns.keyBy('card').pattern(fraud).select((m, ctx) => ({ card: ctx.key, large: m.large[0] }), { uid: 'fraud' });
   */
  pattern<N extends string>(pattern: Pattern<T, N>): PatternStream<T, N, K> {
    if (!(pattern instanceof Pattern)) throw new SluiceError('INVALID_ARGUMENT', 'pattern() needs a Pattern made with Pattern.begin(name)');
    return new PatternStream<T, N, K>(this, pattern);
  }

  /**
   * Complex event processing with patterns as data, changed while the job runs: each
   * {@link PatternUpdate} on `updates` (broadcast to every parallel instance) adds, replaces
   * or removes a JSON pattern by id. Then `select` or `process` the matches.
   *
   * @example
   * txns.keyBy('card').patterns(ruleUpdates).select((m, ctx) => ({ rule: ctx.patternId, card: ctx.key }), { uid: 'rules' });
   */
  patterns(updates: DataStream<PatternUpdate>): DynamicPatternStream<T, K> {
    if (!(updates instanceof DataStream)) throw new SluiceError('INVALID_ARGUMENT', 'patterns() needs the stream of pattern updates');
    return new DynamicPatternStream<T, K>(this, updates);
  }

  /** @internal The edge into a keyed step. */
  edge(input = 0) {
    return this.stream.edge(input, 'hash', this.keySelector);
  }

  private keyedStep<O>(kind: string, fn: KeyedProcessFunction<K, T, O>, options: StatefulStepOptions, description: string): DataStream<O> {
    const selector = this.keySelector;
    const node = this.stream.job.addStep({
      kind,
      options,
      stateful: true,
      inputs: [this.edge()],
      description,
      createOperator: () => new KeyedProcessOperator<K, T, O>(fn, selector),
    });
    return new DataStream<O>(this.stream.job, node);
  }
}

function checkAssigner<T>(assigner: WindowAssigner<T>): WindowAssigner<T> {
  if (!assigner || typeof assigner.assignWindows !== 'function' || typeof assigner.defaultTrigger !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'window() needs a WindowAssigner such as tumbling(size), sliding(size, slide) or session(gap)');
  }
  if (assigner.merging && typeof assigner.mergeWindows !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `window assigner '${assigner.kind}' says it merges but has no mergeWindows()`);
  }
  return assigner;
}
