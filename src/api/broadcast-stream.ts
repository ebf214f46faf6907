import { SluiceError } from '../errors/index.js';
import type { StreamEdge } from '../plan/graph.js';
import { BroadcastProcessOperator } from '../runtime/operators/broadcast-process.js';
import { checkBroadcastDescriptors, type BroadcastStateDescriptor } from '../runtime/operators/broadcast-state.js';
import { KeyedBroadcastProcessOperator } from '../runtime/operators/keyed-broadcast-process.js';
import type { Key } from '../state/types.js';
import { DataStream } from './data-stream.js';
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from '../core/functions.js';
import type { KeyedStream } from './keyed-stream.js';
import type { StatefulStepOptions } from '../core/step-options.js';

/**
 * A stream sent whole to every parallel instance of the step it is connected to, with
 * the broadcast state that step keeps (Flink's `BroadcastStream`). Made by
 * `stream.broadcast(descriptor, …)`; connect a keyed or plain stream to it.
 *
 * @example
 * const rules = mapState<string, Rule>('rules');
 * payments.keyBy('user').connect(ruleStream.broadcast(rules)).process(tooLarge, { uid: 'too-large' });
 */
export class BroadcastStream<T> {
  /** The map state descriptors of the broadcast state (frozen, names unique). */
  readonly descriptors: readonly BroadcastStateDescriptor[];

  /** @internal Made by `DataStream.broadcast`. */
  constructor(
    readonly stream: DataStream<T>,
    descriptors: readonly unknown[],
  ) {
    this.descriptors = checkBroadcastDescriptors(descriptors);
    Object.freeze(this);
  }

  /** @internal The edge into the connected step: every record to every subtask. */
  edge(input: number): StreamEdge {
    return this.stream.edge(input, 'broadcast');
  }

  /** @internal For explain(): what the step keeps. */
  describe(): string {
    return `broadcast state ${this.descriptors.map((d) => `'${d.name}'`).join(', ')}`;
  }
}

/** A stream that is not keyed, connected to a broadcast stream: give a {@link BroadcastProcessFunction}. */
export class BroadcastConnectedStream<I, B> {
  /** @internal Made by `DataStream.connect(broadcastStream)`. */
  constructor(
    readonly main: DataStream<I>,
    readonly broadcast: BroadcastStream<B>,
  ) {
    if (main.job !== broadcast.stream.job) throw new SluiceError('INVALID_JOB', 'connect() joins streams of two different jobs');
  }

  /** The step: main records read the broadcast state that broadcast records fill. It keeps state, so its uid is required. */
  process<O>(fn: BroadcastProcessFunction<I, B, O>, options: StatefulStepOptions): DataStream<O> {
    checkFunction(fn);
    const descriptors = this.broadcast.descriptors;
    const node = this.main.job.addStep({
      kind: 'co-process',
      options,
      stateful: true,
      inputs: [this.main.edge(0), this.broadcast.edge(1)],
      description: `with ${this.broadcast.describe()}`,
      createOperator: () => new BroadcastProcessOperator<I, B, O>(fn, descriptors),
    });
    return new DataStream<O>(this.main.job, node);
  }
}

/** A keyed stream connected to a broadcast stream: give a {@link KeyedBroadcastProcessFunction}. */
export class KeyedBroadcastConnectedStream<I, B, K extends Key> {
  /** @internal Made by `KeyedStream.connect(broadcastStream)`. */
  constructor(
    readonly main: KeyedStream<I, K>,
    readonly broadcast: BroadcastStream<B>,
  ) {
    if (main.stream.job !== broadcast.stream.job) throw new SluiceError('INVALID_JOB', 'connect() joins streams of two different jobs');
  }

  /** The step: per-key state and timers for main records, broadcast state filled by broadcast records. Its uid is required. */
  process<O>(fn: KeyedBroadcastProcessFunction<K, I, B, O>, options: StatefulStepOptions): DataStream<O> {
    checkFunction(fn);
    const keySelector = this.main.keySelector;
    const descriptors = this.broadcast.descriptors;
    const job = this.main.stream.job;
    const node = job.addStep({
      kind: 'co-process',
      options,
      stateful: true,
      inputs: [this.main.edge(0), this.broadcast.edge(1)],
      description: `keyed, with ${this.broadcast.describe()}`,
      createOperator: () => new KeyedBroadcastProcessOperator<K, I, B, O>(fn, keySelector, descriptors),
    });
    return new DataStream<O>(job, node);
  }
}

function checkFunction(fn: unknown): void {
  const f = fn as Partial<BroadcastProcessFunction<unknown, unknown, unknown>> | null | undefined;
  if (!f || typeof f.processElement !== 'function' || typeof f.processBroadcastElement !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'process() on a broadcast-connected stream needs an object with processElement and processBroadcastElement functions');
  }
}
