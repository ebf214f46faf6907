import type { DataStream } from './data-stream.js';
import { DataStream as Stream } from './data-stream.js';
import type { OutputTag } from '../core/output-tag.js';
import type { StatefulStepOptions } from '../core/step-options.js';
import { SluiceError } from '../errors/index.js';
import type { StepNode, StreamEdge } from '../plan/graph.js';
import type { AggregateFunction, Key } from '../state/types.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WindowAssigner } from '../window/assigner.js';
import type { Evictor } from '../window/evictor.js';
import { WindowOperator } from '../window/operator.js';
import type { WindowConfig, WindowFunctionSpec, WindowSpec } from '../window/window-spec.js';
import {
  PreAggregateOperator,
  checkPreAggregate,
  describePreAggregate,
  globalAggregate,
  globalKeySelector,
  reduceAggregate,
} from '../window/pre-aggregate.js';
import { SlicingWindowOperator, canSlice } from '../window/slicing-operator.js';
import type { Trigger } from '../window/trigger.js';
import type { ProcessWindowFunction, WindowResult } from '../window/window-function.js';

/** Options of a window's `aggregate` and `reduce`. */
export interface WindowAggregateOptions extends StatefulStepOptions {
  /**
   * Pre-aggregate before the keyed exchange (Flink's local-global aggregation in
   * mini-batches): a step chained to the input folds records into one partial accumulator
   * per key and slice, holds it until the watermark is about to fire its window (or a
   * checkpoint barrier comes), and the window step merges partials. A key then sends about
   * one partial per slice through the exchange instead of all its records: for hot keys,
   * and for keyed aggregations that should scale across cores. Results are the same as
   * without. Needs an aggregate with `merge` (for `reduce`: an associative function),
   * event-time tumbling or sliding windows with their own trigger, no evictor and no
   * late-data side output; other combinations are refused with the reason. The local
   * step is named `<uid>.pre-aggregate`. See `pre-aggregate.ts`. Default false.
   *
   * @example
   * clicks.keyBy('page').window(tumbling('10s')).aggregate(count(), { uid: 'page-views', preAggregate: true });
   */
  preAggregate?: boolean;
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
  reduce(fn: (a: T, b: T) => T, options: WindowAggregateOptions): DataStream<WindowResult<RK, T>>;
  reduce<O>(fn: (a: T, b: T) => T, windowFn: ProcessWindowFunction<T, O, K>, options: WindowAggregateOptions): DataStream<O>;
  reduce<O>(fn: (a: T, b: T) => T, b: ProcessWindowFunction<T, O, K> | WindowAggregateOptions, c?: WindowAggregateOptions): DataStream<any> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'reduce() needs a function (a, b) => value');
    const [process, options] = splitArgs(b, c);
    if (preAggregating(options)) {
      const aggregate = reduceAggregate(fn);
      checkPreAggregate(this.config, aggregate, options.uid, 'reduce');
      return this.buildPreAggregated(aggregate, process, options);
    }
    return this.build({ kind: 'reduce', reduce: fn, process }, options);
  }

  /** Aggregates each window's records incrementally (count, sum, average, percentiles…). */
  aggregate<ACC, V>(fn: AggregateFunction<T, ACC, V>, options: WindowAggregateOptions): DataStream<WindowResult<RK, V>>;
  aggregate<ACC, V, O>(fn: AggregateFunction<T, ACC, V>, windowFn: ProcessWindowFunction<V, O, K>, options: WindowAggregateOptions): DataStream<O>;
  aggregate<ACC, V, O>(
    fn: AggregateFunction<T, ACC, V>,
    b: ProcessWindowFunction<V, O, K> | WindowAggregateOptions,
    c?: WindowAggregateOptions,
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
    if (preAggregating(options)) {
      checkPreAggregate(this.config, fn as AggregateFunction<T, unknown, unknown>, options.uid, 'aggregate');
      return this.buildPreAggregated(fn, process, options);
    }
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

  /**
   * Two steps: the local pre-aggregation, fed by this stream before the keyBy (forward,
   * at the input's parallelism, so that it chains to it), then the ordinary window step
   * over its output, keyed by the partials' keys and merging their accumulators.
   */
  private buildPreAggregated<ACC, V, O>(
    fn: AggregateFunction<T, ACC, V>,
    process: ProcessWindowFunction<V, O, K> | undefined,
    options: WindowAggregateOptions,
  ): DataStream<O> {
    const { assigner } = this.config;
    const selector = this.keySelector;
    const slicing = assigner.slicing!;
    const { uid } = options;
    // The local step never reports a record: it passes what it cannot fold to the window step.
    const local = this.input.job.addStep({
      kind: 'pre-aggregate',
      options: { uid: `${uid}.pre-aggregate`, parallelism: parallelismOf(this.edge.from) },
      stateful: false,
      inputs: [{ ...this.edge, partitioner: 'forward', keySelector: undefined }],
      description: describePreAggregate(assigner, uid),
      createOperator: () => new PreAggregateOperator<T, K, ACC>(fn, selector, slicing),
    });
    const partials = new Stream<any>(this.input.job, local);
    const key = globalKeySelector(selector);
    const global = new WindowedStream<any, K, RK>(partials, partials.edge(0, 'hash', key), key, this.keyed, this.config as WindowConfig<any>);
    return global.build({ kind: 'aggregate', aggregate: globalAggregate(fn), process }, options, 'pre-aggregated');
  }

  private build<O>(fn: WindowFunctionSpec<T, K, O>, options: StatefulStepOptions, note = ''): DataStream<O> {
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
      note,
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

function splitArgs<P>(b: P | WindowAggregateOptions, c: WindowAggregateOptions | undefined): [P | undefined, WindowAggregateOptions] {
  if (c !== undefined) return [b as P, c];
  return [undefined, b as WindowAggregateOptions];
}

function preAggregating(options: WindowAggregateOptions | undefined): boolean {
  const p = options?.preAggregate;
  if (p === undefined || p === false) return false;
  if (p !== true) throw new SluiceError('INVALID_ARGUMENT', `preAggregate must be true or false, got ${String(p)}`, { step: options?.uid });
  // Checked before either of the two steps is added (the local step is named after it).
  const uid = options?.uid;
  if (typeof uid !== 'string' || uid.trim() === '') throw new SluiceError('MISSING_UID', `a window step has ${uid === undefined ? 'no' : 'an empty'} uid`);
  return true;
}

/**
 * The parallelism a step must ask for to run beside `node` (and so chain to it): the
 * node's own, and 1 for a source or sink that runs as one instance (the job's default
 * otherwise). Mirrors `resolveParallelism` in `plan/physical.ts`.
 */
function parallelismOf(node: StepNode): number | undefined {
  if (node.parallelism !== undefined) return node.parallelism;
  const connector = node.source ?? node.sink;
  return connector !== undefined && connector.parallel !== true ? 1 : undefined;
}
