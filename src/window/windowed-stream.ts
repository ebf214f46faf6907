import type { DataStream } from '../api/data-stream.js';
import { DataStream as Stream } from '../api/data-stream.js';
import type { OutputTag } from '../api/output-tag.js';
import type { StatefulStepOptions } from '../api/step-options.js';
import { SluiceError } from '../errors/index.js';
import type { StreamEdge } from '../plan/graph.js';
import type { AggregateFunction, Key } from '../state/types.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WindowAssigner } from './assigner.js';
import type { Evictor } from './evictor.js';
import { WindowOperator, type WindowFunctionSpec, type WindowSpec } from './operator.js';
import { SlicingWindowOperator, canSlice } from './slicing-operator.js';
import type { Trigger } from './trigger.js';
import type { ProcessWindowFunction, WindowResult } from './window-function.js';

/** @internal The window configuration before the function is chosen. */
export interface WindowConfig<T> {
  readonly assigner: WindowAssigner<T>;
  readonly trigger?: Trigger<T> | undefined;
  readonly evictor?: Evictor<T> | undefined;
  readonly allowedLatenessMs: number;
  readonly lateTag?: OutputTag<T> | undefined;
}

/**
 * A keyed stream cut into windows. Configure it (trigger, evictor, allowed lateness,
 * late-data output), then give the window function: `reduce`, `aggregate` (both
 * incremental: a window keeps one value, not its records), or `process` (all records).
 * Immutable: each configuring method returns a new WindowedStream.
 *
 * @example
 * clicks.keyBy('user')
 *   .window(tumbling('1m'))
 *   .allowedLateness('30s')
 *   .sideOutputLateData(lateClicks)
 *   .aggregate(count(), { uid: 'clicks-per-minute' });
 */
export class WindowedStream<T, K extends Key, RK = K> {
  /** @internal Made by `KeyedStream.window` and `DataStream.windowAll`. */
  constructor(
    private readonly input: DataStream<T>,
    private readonly edge: StreamEdge,
    private readonly keySelector: (value: T) => K,
    private readonly keyed: boolean,
    private readonly config: WindowConfig<T>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T>): WindowedStream<T, K, RK> {
    if (this.config.assigner.merging && !trigger.canMerge?.()) {
      throw new SluiceError('INVALID_ARGUMENT', `trigger '${trigger.kind}' cannot be used with merging (session) windows`, {
        hint: 'Use a trigger whose canMerge() returns true, such as eventTimeTrigger() or countTrigger(n).',
      });
    }
    return this.with({ trigger });
  }
  /** Removes records from a window before or after the function (the window then keeps all its records). */
  evictor(evictor: Evictor<T>): WindowedStream<T, K, RK> {
    return this.with({ evictor });
  }
  /** Keeps windows this long after their end: late records update and re-fire them. Default 0. */
  allowedLateness(lateness: Duration): WindowedStream<T, K, RK> {
    return this.with({ allowedLatenessMs: toMillis(lateness, 'allowed lateness') });
  }
  /** Sends records later than the allowed lateness to this side output (otherwise they are counted and dropped). */
  sideOutputLateData(tag: OutputTag<T>): WindowedStream<T, K, RK> {
    return this.with({ lateTag: tag });
  }

  /** Reduces each window's records to one value, as they arrive. */
  reduce(fn: (a: T, b: T) => T, options: StatefulStepOptions): DataStream<WindowResult<RK, T>>;
  reduce<O>(fn: (a: T, b: T) => T, windowFn: ProcessWindowFunction<T, O, K>, options: StatefulStepOptions): DataStream<O>;
  reduce<O>(fn: (a: T, b: T) => T, b: ProcessWindowFunction<T, O, K> | StatefulStepOptions, c?: StatefulStepOptions): DataStream<any> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'reduce() needs a function (a, b) => value');
    const [process, options] = splitArgs(b, c);
    return this.build({ kind: 'reduce', reduce: fn, process }, options);
  }

  /** Aggregates each window's records incrementally (count, sum, average, percentiles…). */
  aggregate<ACC, V>(fn: AggregateFunction<T, ACC, V>, options: StatefulStepOptions): DataStream<WindowResult<RK, V>>;
  aggregate<ACC, V, O>(fn: AggregateFunction<T, ACC, V>, windowFn: ProcessWindowFunction<V, O, K>, options: StatefulStepOptions): DataStream<O>;
  aggregate<ACC, V, O>(
    fn: AggregateFunction<T, ACC, V>,
    b: ProcessWindowFunction<V, O, K> | StatefulStepOptions,
    c?: StatefulStepOptions,
  ): DataStream<any> {
    if (!fn || typeof fn.add !== 'function' || typeof fn.createAccumulator !== 'function' || typeof fn.getResult !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'aggregate() needs an AggregateFunction with createAccumulator, add and getResult');
    }
    if (this.config.assigner.merging && typeof fn.merge !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'aggregate() over merging (session) windows needs an AggregateFunction with merge()', {
        hint: 'Add merge(a, b) to the aggregate function, or use process() to see all records.',
      });
    }
    const [process, options] = splitArgs(b, c);
    return this.build({ kind: 'aggregate', aggregate: fn, process }, options);
  }

  /** Gives all of a window's records to a window function when it fires. */
  process<O>(fn: ProcessWindowFunction<T, O, K>, options: StatefulStepOptions): DataStream<O> {
    if (!fn || typeof fn.process !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() needs a ProcessWindowFunction with process(key, ctx, elements, out)');
    }
    return this.build({ kind: 'process', process: fn }, options);
  }

  /** @internal For windowAll: results carry the key null. */
  asWindowAll(): WindowedStream<T, K, null> {
    return new WindowedStream<T, K, null>(this.input, this.edge, this.keySelector, false, this.config);
  }

  private with(change: Partial<WindowConfig<T>>): WindowedStream<T, K, RK> {
    return new WindowedStream<T, K, RK>(this.input, this.edge, this.keySelector, this.keyed, Object.freeze({ ...this.config, ...change }));
  }

  private build<O>(fn: WindowFunctionSpec<T, K, O>, options: StatefulStepOptions): DataStream<O> {
    const { assigner } = this.config;
    const spec: WindowSpec<T, K, O> = {
      assigner,
      trigger: this.config.trigger ?? assigner.defaultTrigger(),
      evictor: this.config.evictor,
      allowedLatenessMs: this.config.allowedLatenessMs,
      lateTag: this.config.lateTag,
      fn,
      keyed: this.keyed,
    };
    const sliced = canSlice(spec, this.config.trigger === undefined);
    const selector = this.keySelector;
    const parts = [
      assigner.describe(),
      this.config.trigger ? `trigger ${this.config.trigger.describe?.() ?? this.config.trigger.kind}` : '',
      this.config.evictor ? `evictor ${this.config.evictor.kind}` : '',
      this.config.allowedLatenessMs ? `lateness ${this.config.allowedLatenessMs}ms` : '',
      `${fn.kind}${fn.process && fn.kind !== 'process' ? ' + window function' : ''}`,
      sliced ? 'sliced' : '',
    ];
    const node = this.input.job.addStep({
      kind: this.keyed ? 'window' : 'window-all',
      options,
      stateful: true,
      inputs: [this.edge],
      description: parts.filter(Boolean).join(', '),
      createOperator: () => (sliced ? new SlicingWindowOperator<T, K, O>(spec, selector) : new WindowOperator<T, K, O>(spec, selector)),
    });
    return new Stream<O>(this.input.job, node);
  }
}

function splitArgs<P>(b: P | StatefulStepOptions, c: StatefulStepOptions | undefined): [P | undefined, StatefulStepOptions] {
  if (c !== undefined) return [b as P, c];
  return [undefined, b as StatefulStepOptions];
}
