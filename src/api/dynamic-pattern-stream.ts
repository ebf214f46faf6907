import type { OutputTag } from '../core/output-tag.js';
import type { StatefulStepOptions } from '../core/step-options.js';
import { DynamicCepOperator, type DynamicCepSpec, type DynamicPatternContext, type DynamicPatternProcessFunction, type DynamicTimedOutMatch } from '../cep/dynamic-operator.js';
import type { JsonPattern } from '../cep/pattern-json.js';
import type { PatternUpdate } from '../cep/pattern-update.js';
import { SluiceError } from '../errors/index.js';
import type { Key } from '../state/types.js';
import { DataStream } from './data-stream.js';
import type { KeyedStream } from './keyed-stream.js';

interface DynamicPatternStreamConfig<T> {
  readonly timeDomain: 'event-time' | 'processing-time';
  readonly lateTag?: OutputTag<T> | undefined;
  readonly timedOutTag?: OutputTag<DynamicTimedOutMatch<T>> | undefined;
  readonly initial?: Readonly<Record<string, JsonPattern | string>> | undefined;
}

/**
 * Patterns written as JSON, changed while the job runs, over a keyed stream: made by
 * `keyedStream.patterns(updates)`. Each {@link PatternUpdate} on `updates` (broadcast to
 * every parallel instance) adds, replaces or removes a pattern by id, without a restart;
 * the partial matches of the patterns it does not change are kept, and the active
 * patterns are part of the checkpoint. Matching is the typed pattern API's (same NFA, same
 * event-time and processing-time handling); a match carries its pattern's id.
 *
 * An update applies from its arrival on: in event time, events released by the watermark
 * after it. An update that cannot apply (bad JSON, an add of an active id, …) goes to the
 * step's error policy with PATTERN_UPDATE_REFUSED / PATTERN_INVALID / EXPRESSION_INVALID,
 * and the active patterns stay as they were.
 *
 * @example
 * const alerts = txns.keyBy('card').patterns(ruleUpdates)
 *   .withInitialPatterns({ fraud: { within: '10m', stages: [{ name: 'small', where: 'amount < 10', times: 3 }, { name: 'large', contiguity: 'followedBy', where: 'amount > 500' }] } })
 *   .select((m, ctx) => ({ rule: ctx.patternId, card: ctx.key }), { uid: 'rules' });
 */
export class DynamicPatternStream<T, K extends Key> {
  /** @internal Made by `KeyedStream.patterns`. */
  constructor(
    private readonly keyed: KeyedStream<T, K>,
    private readonly updates: DataStream<PatternUpdate>,
    private readonly config: DynamicPatternStreamConfig<T> = { timeDomain: 'event-time' },
  ) {}

  /** Patterns active from the start, by id (checked now: a bad one fails the job's build). A restore replaces them with the checkpoint's. */
  withInitialPatterns(patterns: Readonly<Record<string, JsonPattern | string>>): DynamicPatternStream<T, K> {
    return this.with({ initial: patterns });
  }
  /** Matches events as they arrive, in the job's processing time. */
  inProcessingTime(): DynamicPatternStream<T, K> {
    return this.with({ timeDomain: 'processing-time' });
  }
  /** Matches events in timestamp order as the watermark passes them (the default). */
  inEventTime(): DynamicPatternStream<T, K> {
    return this.with({ timeDomain: 'event-time' });
  }
  /** Sends events at or behind the watermark to this side output. */
  sideOutputLateData(tag: OutputTag<T>): DynamicPatternStream<T, K> {
    return this.with({ lateTag: tag });
  }
  /** Sends partial matches that time out to this side output, with their pattern's id. */
  sideOutputTimedOut(tag: OutputTag<DynamicTimedOutMatch<T>>): DynamicPatternStream<T, K> {
    return this.with({ timedOutTag: tag });
  }

  /** One result per match. */
  select<O>(fn: (match: Record<string, T[]>, ctx: DynamicPatternContext<K>) => O, options: StatefulStepOptions): DataStream<O> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'select() needs a function (match, ctx) => result');
    return this.process<O>({ processMatch: (m, ctx, out) => out.collect(fn(m, ctx)) }, options);
  }

  /** Any number of results per match, and timed-out partial matches. */
  process<O>(fn: DynamicPatternProcessFunction<T, K, O>, options: StatefulStepOptions): DataStream<O> {
    if (!fn || typeof fn.processMatch !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() needs an object with a processMatch(match, ctx, out) function');
    }
    const spec: DynamicCepSpec<T, K, O> = { keySelector: this.keyed.keySelector, fn, ...this.config };
    // Built once now, so that a bad initial pattern fails here and not in a task.
    new DynamicCepOperator<T, K, O>(spec);
    const job = this.keyed.stream.job;
    if (this.updates.job !== job) throw new SluiceError('INVALID_JOB', 'patterns() joins streams of two different jobs');
    const node = job.addStep({
      kind: 'cep-dynamic',
      options,
      stateful: true,
      inputs: [this.keyed.edge(0), this.updates.edge(1, 'broadcast')],
      description: `dynamic patterns (${this.config.timeDomain})`,
      createOperator: () => new DynamicCepOperator<T, K, O>(spec),
    });
    return new DataStream<O>(job, node);
  }

  private with(change: Partial<DynamicPatternStreamConfig<T>>): DynamicPatternStream<T, K> {
    return new DynamicPatternStream(this.keyed, this.updates, { ...this.config, ...change });
  }
}
