import type { OutputTag } from '../core/output-tag.js';
import type { StatefulStepOptions } from '../core/step-options.js';
import { compilePattern } from '../cep/nfa-compiler.js';
import { CepOperator, type CepSpec } from '../cep/operator.js';
import type { Match, Pattern } from '../cep/pattern.js';
import type { PatternContext, PatternProcessFunction, TimedOutMatch } from '../cep/pattern-function.js';
import { SluiceError } from '../errors/index.js';
import type { Key } from '../state/types.js';
import { DataStream } from './data-stream.js';
import type { KeyedStream } from './keyed-stream.js';

interface PatternStreamConfig<T, N extends string> {
  readonly timeDomain: 'event-time' | 'processing-time';
  readonly lateTag?: OutputTag<T> | undefined;
  readonly timedOutTag?: OutputTag<TimedOutMatch<T, N>> | undefined;
}

/**
 * A pattern applied to a keyed stream (Flink's `PatternStream`), made by
 * `keyedStream.pattern(p)`: matching runs per key. Configure it (time domain, late-data and
 * timed-out outputs), then turn matches into results with `select` or `process`.
 * Immutable: each configuring method returns a new PatternStream.
 *
 * In event time (the default) events wait, sorted by timestamp, until the watermark passes
 * them; an event at or behind the watermark is late. In processing time events match as
 * they come, timed by the job's clock.
 *
 * @example
 * const timedOut = new OutputTag<TimedOutMatch<Txn, 'small' | 'large'>>('unfinished');
 * const alerts = txns.keyBy('card').pattern(fraud)
 *   .sideOutputTimedOut(timedOut)
 *   .select((m, ctx) => ({ card: ctx.key, large: m.large[0]!.amount }), { uid: 'fraud' });
 * alerts.sideOutput(timedOut).print();
 */
export class PatternStream<T, N extends string, K extends Key> {
  /** @internal Made by `KeyedStream.pattern`. */
  constructor(
    private readonly keyed: KeyedStream<T, K>,
    private readonly pattern: Pattern<T, N>,
    private readonly config: PatternStreamConfig<T, N> = { timeDomain: 'event-time' },
  ) {}

  /** Matches events as they arrive, in the job's processing time (`within` then counts in processing time). */
  inProcessingTime(): PatternStream<T, N, K> {
    return this.with({ timeDomain: 'processing-time' });
  }
  /** Matches events in timestamp order as the watermark passes them (the default). */
  inEventTime(): PatternStream<T, N, K> {
    return this.with({ timeDomain: 'event-time' });
  }
  /** Sends events at or behind the watermark to this side output (otherwise they are counted and dropped). */
  sideOutputLateData(tag: OutputTag<T>): PatternStream<T, N, K> {
    return this.with({ lateTag: tag });
  }
  /** Sends partial matches that time out (`within`) to this side output. */
  sideOutputTimedOut(tag: OutputTag<TimedOutMatch<T, N>>): PatternStream<T, N, K> {
    return this.with({ timedOutTag: tag });
  }

  /** One result per match. */
  select<O>(fn: (match: Match<T, N>, ctx: PatternContext<K>) => O, options: StatefulStepOptions): DataStream<O> {
    if (typeof fn !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'select() needs a function (match, ctx) => result');
    return this.process<O>({ processMatch: (m, ctx, out) => out.collect(fn(m, ctx)) }, options);
  }

  /** Any number of results per match, and timed-out partial matches (`processTimedOutMatch`). */
  process<O>(fn: PatternProcessFunction<T, N, K, O>, options: StatefulStepOptions): DataStream<O> {
    if (!fn || typeof fn.processMatch !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'process() needs an object with a processMatch(match, ctx, out) function');
    }
    const compiled = compilePattern(this.pattern as Pattern<T, string>);
    const spec: CepSpec<T, K, O> = {
      pattern: compiled,
      keySelector: this.keyed.keySelector,
      timeDomain: this.config.timeDomain,
      lateTag: this.config.lateTag,
      timedOutTag: this.config.timedOutTag as OutputTag<TimedOutMatch<T, string>> | undefined,
      fn: fn as unknown as PatternProcessFunction<T, string, K, O>,
    };
    const job = this.keyed.stream.job;
    const node = job.addStep({
      kind: 'cep',
      options,
      stateful: true,
      inputs: [this.keyed.edge()],
      description: `pattern ${this.pattern.names.join(' -> ')} (${this.config.timeDomain})`,
      createOperator: () => new CepOperator<T, K, O>(spec),
    });
    return new DataStream<O>(job, node);
  }

  private with(change: Partial<PatternStreamConfig<T, N>>): PatternStream<T, N, K> {
    return new PatternStream(this.keyed, this.pattern, { ...this.config, ...change });
  }
}
