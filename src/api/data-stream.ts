import { consoleSink } from '../connectors/console/index.js';
import { mask, type MaskMethod } from '../privacy/mask.js';
import type { Sink } from '../connectors/sink.js';
import { SluiceError } from '../errors/index.js';
import type { StepNode, StreamEdge } from '../plan/graph.js';
import { FilterOperator } from '../runtime/operators/filter.js';
import { FlatMapOperator } from '../runtime/operators/flat-map.js';
import { MapOperator } from '../runtime/operators/map.js';
import { ProcessOperator } from '../runtime/operators/process.js';
import { UnionOperator } from '../runtime/operators/union.js';
import type { Key, MapStateDescriptor } from '../state/types.js';
import type { WatermarkStrategy } from '../time/watermark-strategy.js';
import type { WindowAssigner } from '../window/assigner.js';
import type { WindowedStream } from './windowed-stream.js';
import { CoGroupedStreams } from './joins/co-group.js';
import { JoinedStreams } from './joins/window-join.js';
import { BroadcastConnectedStream, BroadcastStream } from './broadcast-stream.js';
import { ConnectedStreams } from './connected-streams.js';
import type { ProcessFunction } from '../core/functions.js';
import type { JobBuilder } from './job-builder.js';
import { KeyedStream } from './keyed-stream.js';
import type { OutputTag } from '../core/output-tag.js';
import type { StepOptions } from '../core/step-options.js';
import type { AsyncMapFunction, AsyncProcessFunction, AsyncStepOptions } from '../core/async-function.js';
import { addAsyncStep } from './async-step.js';
import type { Pattern } from '../cep/pattern.js';
import type { PatternStream } from './pattern-stream.js';

/** The property names of T whose values are keys. */
export type KeyField<T> = { [P in keyof T]-?: T[P] extends Key ? P : never }[keyof T];

/**
 * A typed stream of records. Each method adds a step to the job and returns the stream
 * it produces; nothing runs until `job.run()`.
 *
 * @example
 * job.source(fromCollection(['a b', 'c']), { uid: 'lines' })
 *   .flatMap((line) => line.split(' '))
 *   .filter((w) => w.length > 0)
 *   .map((w) => w.toUpperCase())
 *   .print();
 */
export class DataStream<T> {
  /** @internal Use the job's and streams' methods to make streams. */
  constructor(
    readonly job: JobBuilder,
    readonly node: StepNode,
    /** The side output tag this stream is, if it is one. */
    readonly tag?: string,
    /** How records reach the next step's subtasks (see `rebalance()`, `broadcast()`). */
    private readonly partitioning: 'forward' | 'rebalance' | 'broadcast' = 'forward',
  ) {}

  /** @internal The edge from this stream into a new step. */
  edge(input = 0, partitioner: StreamEdge['partitioner'] = this.partitioning, keySelector?: (v: T) => Key): StreamEdge {
    return { from: this.node, tag: this.tag, partitioner, keySelector, input };
  }

  /**
   * Spreads the records round-robin (in whole batches) over the subtasks of the next
   * step, to even out skew before costly work. (A forward edge between steps of different
   * parallelism rebalances by itself.)
   *
   * @example
   * job.source(fromCollection(urls), { uid: 'urls' }).rebalance().map(fetchTitle, { parallelism: 4 })
   */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.job, this.node, this.tag, 'rebalance');
  }

  /** One record in, one out. */
  map<U>(fn: (value: T) => U, options?: StepOptions): DataStream<U> {
    checkFunction(fn, 'map');
    return this.step('map', options, () => new MapOperator(fn));
  }

  /**
   * Masks personal fields (a `map` by {@link mask}): `'redact'`, `'partial'` (`****1234`) or a
   * keyed hash (`{ hmac: key }`). For tokens and encryption, see `tokenize` and `encryptFields`.
   *
   * @example
   * payments.mask(['card'], 'partial', { uid: 'mask-card' }).mask(['email'], { hmac: { env: 'PII_KEY' } }, { uid: 'hash-email' })
   */
  mask(fields: readonly (keyof T & string)[], how: MaskMethod, options?: StepOptions): DataStream<T> {
    return this.step('map', options, () => new MapOperator(mask(fields as never, how) as unknown as (value: T) => T));
  }

  /** Keeps the records for which `predicate` is true. */
  filter(predicate: (value: T) => boolean, options?: StepOptions): DataStream<T> {
    checkFunction(predicate, 'filter');
    return this.step('filter', options, () => new FilterOperator(predicate));
  }

  /** One record in, any number out: return an array (or any iterable). */
  flatMap<U>(fn: (value: T) => Iterable<U>, options?: StepOptions): DataStream<U> {
    checkFunction(fn, 'flatMap');
    return this.step('flatMap', options, () => new FlatMapOperator(fn));
  }

  /** The general step over a stream that is not keyed: any number of outputs per record, side outputs. */
  process<O>(fn: ProcessFunction<T, O>, options?: StepOptions): DataStream<O> {
    if (!fn || typeof fn.processElement !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() needs an object with a processElement(value, ctx, out) function');
    }
    return this.step('process', options, () => new ProcessOperator(fn));
  }

  /**
   * One record in, one out, through an async function (a call to a service or a
   * database), with at most `capacity` records in flight per subtask (Flink's
   * AsyncDataStream). Results leave in input order (`mode: 'ordered'`, the default) or
   * as they come (`'unordered'`, never across a watermark). Each attempt may time out
   * and be retried by the `retry` policy; a record whose call fails for good goes through
   * the step's error policy (`onError`). Records in flight are kept in checkpoints and
   * called again after a restore: exactly-once results.
   *
   * @example
   * orders.asyncMap(async (o, { signal }) => ({ ...o, user: await fetchUser(o.userId, signal) }),
   *   { uid: 'enrich', mode: 'unordered', capacity: 50, timeout: '2s', retry: fixedDelay('100ms', { maxAttempts: 3 }) })
   */
  asyncMap<U>(fn: AsyncMapFunction<T, U>, options: AsyncStepOptions<T, U>): DataStream<U> {
    return new DataStream<U>(this.job, addAsyncStep<T, U>(this.job, this.edge(), 'asyncMap', fn, options));
  }

  /**
   * Like {@link asyncMap}, but the function gives any number of results per record (an
   * iterable: none, one, many), as Flink's AsyncFunction completes with a collection.
   *
   * @example
   * queries.asyncProcess(async (q) => (await search(q)).hits, { uid: 'search', capacity: 20 })
   */
  asyncProcess<U>(fn: AsyncProcessFunction<T, U>, options: AsyncStepOptions<T, U>): DataStream<U> {
    return new DataStream<U>(this.job, addAsyncStep<T, U>(this.job, this.edge(), 'asyncProcess', fn, options));
  }

  /**
   * Partitions the stream by key: records with equal keys go to the same place, where
   * keyed state and timers live. The key is a string, finite number or bigint, taken by a
   * function or a property name.
   */
  keyBy<K extends Key>(selector: (value: T) => K): KeyedStream<T, K>;
  keyBy<P extends KeyField<T>>(field: P): KeyedStream<T, T[P] & Key>;
  keyBy(selector: ((value: T) => Key) | PropertyKey): KeyedStream<T, Key> {
    if (typeof selector === 'function') return new KeyedStream(this, selector);
    if (typeof selector === 'string' || typeof selector === 'number') {
      const field = selector;
      return new KeyedStream(this, (v: T) => (v as Record<PropertyKey, Key>)[field]!);
    }
    throw new SluiceError('INVALID_ARGUMENT', 'keyBy() needs a key selector function or a property name');
  }

  /**
   * Complex event processing over the whole stream, not keyed (Flink's `CEP.pattern` on a
   * plain stream): one subtask sees every record, matches carry the key `0`. Key the
   * stream first (`keyBy(…).pattern(p)`) to match per key and in parallel.
   */
  pattern<N extends string>(pattern: Pattern<T, N>): PatternStream<T, N, 0> {
    return this.keyBy((): 0 => 0).pattern(pattern);
  }

  /**
   * Windows over the whole stream, not keyed (one task sees every record: Flink's
   * windowAll). Results carry the key `null`.
   */
  windowAll(assigner: WindowAssigner<T>): WindowedStream<T, number, null> {
    return this.keyBy(() => 0).window(assigner).asWindowAll();
  }

  /** Merges streams of the same type into one. */
  union(...others: DataStream<T>[]): DataStream<T> {
    if (others.length === 0) return this;
    const inputs = [this, ...others].map((s) => s.edge(0));
    const node = this.job.addStep({
      kind: 'union',
      options: undefined,
      stateful: false,
      inputs,
      description: `${inputs.length} inputs`,
      createOperator: () => new UnionOperator<T>(),
    });
    return new DataStream<T>(this.job, node);
  }

  /**
   * Two streams of different types into one two-input step (`process` with a co-process
   * function); with a {@link BroadcastStream}, a step whose main records read the
   * broadcast state (`process` with a broadcast process function).
   */
  connect<U>(other: BroadcastStream<U>): BroadcastConnectedStream<T, U>;
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U>;
  connect<U>(other: DataStream<U> | BroadcastStream<U>): ConnectedStreams<T, U> | BroadcastConnectedStream<T, U> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream(this, other);
    return new ConnectedStreams(this, other);
  }

  /**
   * Sends this (low-volume) stream whole to every parallel instance of the step it is
   * connected to, which keeps it in the broadcast state the descriptors name (map state,
   * without TTL). Then `keyedOrPlain.connect(broadcastStream).process(fn, { uid })`.
   */
  broadcast(...descriptors: [MapStateDescriptor<any, any>, ...MapStateDescriptor<any, any>[]]): BroadcastStream<T>;
  /** Without descriptors: every record goes to every subtask of the next step (Flink's broadcast partitioning). */
  broadcast(): DataStream<T>;
  broadcast(...descriptors: MapStateDescriptor<any, any>[]): BroadcastStream<T> | DataStream<T> {
    if (descriptors.length === 0) return new DataStream<T>(this.job, this.node, this.tag, 'broadcast');
    return new BroadcastStream(this, descriptors);
  }

  /** Window join with another stream: `.where(key).equalTo(key).window(assigner).apply((a, b) => result, { uid })`. */
  join<U>(other: DataStream<U>): JoinedStreams<T, U> {
    return new JoinedStreams(this, other);
  }

  /** Co-group with another stream: per key and window, both sides' records (`.where(…).equalTo(…).window(…).apply(…)`). */
  coGroup<U>(other: DataStream<U>): CoGroupedStreams<T, U> {
    return new CoGroupedStreams(this, other);
  }

  /** Assigns event timestamps and generates watermarks from here on. */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>, options?: StepOptions): DataStream<T> {
    return new DataStream<T>(this.job, this.job.addWatermarks(this.edge(), strategy, options));
  }

  /** The stream of what this step sent to the side output `tag`. */
  sideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    if (this.tag !== undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `sideOutput('${tag.id}') was asked of a side output; ask it of the step's main stream`);
    }
    return new DataStream<X>(this.job, this.node, tag.id);
  }

  /** Writes the stream to a sink. */
  sinkTo(sink: Sink<T>, options?: StepOptions): void {
    if (!sink || typeof sink.createWriter !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'sinkTo() needs a Sink (an object with kind and createWriter)');
    }
    this.job.addSink(this.edge(), sink, options);
  }

  /** Prints every record on standard output, one per line (JSON for objects), after `prefix` if given. */
  print(options?: StepOptions & { prefix?: string }): void {
    this.sinkTo(consoleSink<T>(options?.prefix === undefined ? {} : { prefix: options.prefix }), options);
  }

  private step<O>(kind: string, options: StepOptions | undefined, createOperator: StepSpecOperator): DataStream<O> {
    const node = this.job.addStep({ kind, options, stateful: false, inputs: [this.edge()], description: '', createOperator });
    return new DataStream<O>(this.job, node);
  }
}

type StepSpecOperator = () => import('../runtime/operator.js').Operator<any, any>;

function checkFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${what}() needs a function, got ${fn === null ? 'null' : typeof fn}`);
  }
}
