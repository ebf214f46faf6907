import { SluiceError } from '../errors/index.js';
import { KeyedCoProcessOperator } from '../runtime/operators/keyed-co-process.js';
import { ProcessOperator } from '../runtime/operators/process.js';
import type { Key } from '../state/types.js';
import { DataStream } from './data-stream.js';
import type { CoProcessFunction, KeyedCoProcessFunction } from '../core/functions.js';
import type { KeyedStream } from './keyed-stream.js';
import type { StatefulStepOptions, StepOptions } from '../core/step-options.js';

/**
 * Two streams of different types feeding one step.
 *
 * @example
 * orders.connect(payments).keyBy((o) => o.id, (p) => p.orderId).process(matchPayments, { uid: 'match' });
 */
export class ConnectedStreams<A, B> {
  constructor(
    readonly first: DataStream<A>,
    readonly second: DataStream<B>,
  ) {
    if (first.job !== second.job) throw new SluiceError('INVALID_JOB', 'connect() joins streams of two different jobs');
  }

  /** A two-input step without keys. */
  process<O>(fn: CoProcessFunction<A, B, O>, options?: StepOptions): DataStream<O> {
    if (!fn || typeof fn.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() on connected streams needs processElement1 and processElement2');
    }
    const node = this.first.job.addStep({
      kind: 'co-process',
      options,
      stateful: false,
      inputs: [this.first.edge(0), this.second.edge(1)],
      description: 'two inputs',
      createOperator: () => new ProcessOperator<A | B, O>(fn),
    });
    return new DataStream<O>(this.first.job, node);
  }

  /** Keys both inputs the same way. */
  keyBy<K extends Key>(first: (value: A) => K, second: (value: B) => K): ConnectedKeyedStreams<A, B, K> {
    return new ConnectedKeyedStreams(this.first.keyBy(first), this.second.keyBy(second));
  }
}

/** Two keyed streams with one key space: the step sees each key's state and timers from both. */
export class ConnectedKeyedStreams<A, B, K extends Key> {
  constructor(
    readonly first: KeyedStream<A, K>,
    readonly second: KeyedStream<B, K>,
  ) {
    if (first.stream.job !== second.stream.job) throw new SluiceError('INVALID_JOB', 'connect() joins streams of two different jobs');
  }

  /**
   * A two-input keyed step: `processElement1` gets the first stream's records and
   * `processElement2` the second's, each with its key's state and timers, which both
   * inputs share. Stateful, so the uid is required.
   */
  process<O>(fn: KeyedCoProcessFunction<K, A, B, O>, options: StatefulStepOptions): DataStream<O> {
    if (!fn || typeof fn.processElement1 !== 'function' || typeof fn.processElement2 !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() on connected streams needs processElement1 and processElement2');
    }
    const k1 = this.first.keySelector;
    const k2 = this.second.keySelector;
    const job = this.first.stream.job;
    const node = job.addStep({
      kind: 'co-process',
      options,
      stateful: true,
      inputs: [this.first.edge(0), this.second.edge(1)],
      description: 'keyed, two inputs',
      createOperator: () => new KeyedCoProcessOperator<K, A, B, O>(fn, k1, k2),
    });
    return new DataStream<O>(job, node);
  }
}
