import type { OutputTag } from '../core/output-tag.js';
import type { Batch } from '../runtime/batch.js';
import { KeyedOperator } from '../runtime/operators/keyed-operator.js';
import { EventTimeBuffer } from './event-time-buffer.js';
import { mapState, valueState } from '../state/descriptors.js';
import type { Key, MapState, ValueState } from '../state/types.js';
import type { CompiledPattern } from './nfa-compiler.js';
import { advanceTime, initialNfa, isIdle, nextTimeout, processEvent, releaseHeld, toMatch, type FoundMatch, type KeyNfa, type TimedOut } from './nfa.js';
import type { PatternContext, PatternProcessFunction, TimedOutMatch } from './pattern-function.js';

/** Everything the CEP step needs, fixed when the job is built. */
export interface CepSpec<T, K extends Key, O> {
  readonly pattern: CompiledPattern<T>;
  readonly keySelector: (value: T) => K;
  /** Event time: events wait, sorted, until the watermark passes them. Processing time: they match as they come. */
  readonly timeDomain: 'event-time' | 'processing-time';
  /** Where events at or behind the watermark go (event time); without it they are counted and dropped. */
  readonly lateTag?: OutputTag<T> | undefined;
  /** Where partial matches that time out go. */
  readonly timedOutTag?: OutputTag<TimedOutMatch<T, string>> | undefined;
  readonly fn: PatternProcessFunction<T, string, K, O>;
}

/**
 * The keyed CEP operator (Flink's `CepOperator`). Per key it keeps the matching state
 * (`cep-nfa`: partial matches and matches held back by the skip strategy) and, in event
 * time, the events not yet passed by the watermark (`cep-buffer`, by timestamp). Both are
 * keyed state: checkpointed, restored and rescaled by key group with the timers.
 *
 * Event time: an event is buffered and a timer set at the next watermark (as Flink does);
 * when it fires, the buffered events up to the watermark run in timestamp order (arrival
 * order within a timestamp), each timestamp after timing out what `within` ended before it
 * (`advanceTime`), then time advances to the watermark. A timer at the earliest timeout
 * keeps timeouts on time when no event comes. Processing time: the same on arrival, with
 * the clock's time as the event's.
 */
export class CepOperator<T, K extends Key, O> extends KeyedOperator<T, K, O> {
  /** Events behind the watermark, dropped because no late-data output is set (read by the step's metrics). */
  get lateDropped(): number {
    return this.waiting?.lateDropped ?? 0;
  }
  /** Events behind the watermark sent to the late-data output (read by the step's metrics). */
  get lateToSideOutput(): number {
    return this.waiting?.lateToSideOutput ?? 0;
  }
  private nfa!: ValueState<KeyNfa<T>>;
  private waiting: EventTimeBuffer<T, K> | undefined;

  constructor(private readonly spec: CepSpec<T, K, O>) {
    super();
  }

  protected openKeyed(): void {
    const scope = this.openScope((ts) => this.onTimer(ts));
    this.nfa = scope.backend.getState(valueState<KeyNfa<T>>('cep-nfa'));
    this.waiting = new EventTimeBuffer(scope.backend.getState(mapState<number, T[]>('cep-buffer')), scope, this.runtime.uid, this.spec.lateTag);
    this.spec.fn.open?.(scope.openContext);
  }

  processBatch(batch: Batch<T>): void {
    const processingTime = this.spec.timeDomain === 'processing-time';
    this.forEachKeyed(batch, this.spec.keySelector, 'pattern', (v, ts) => {
      if (!processingTime) return this.waiting!.add(v, ts);
      const now = this.runtime.clock.now();
      this.scope.context.timestamp = now;
      this.scope.collector.timestamp = now;
      this.run([[now, [v]]], now);
    });
    this.scope.collector.flush(this.out);
  }

  /**
   * An event-time timer (the watermark moved past buffered events, or a timeout is due):
   * the buffered events up to the watermark in timestamp order; a processing-time one: a timeout.
   */
  private onTimer(ts: number): void {
    if (this.spec.timeDomain === 'processing-time') {
      this.run([], ts);
      return;
    }
    this.run(this.waiting!.takeDue(), this.scope.watermark);
  }

  /**
   * Matches the events of each batch at its time, after timing out what ended before it;
   * then times out what ended by `end`; then saves the key's state.
   */
  private run(batches: ReadonlyArray<readonly [number, readonly T[]]>, end: number): void {
    const { pattern } = this.spec;
    const nfa = this.nfa.value() ?? initialNfa(pattern);
    for (const [time, events] of batches) {
      this.advance(nfa, time);
      for (const e of events) {
        try {
          this.emit(processEvent(pattern, nfa, e, time));
        } catch (error) {
          this.runtime.userError(error, e, time, 'pattern condition');
        }
      }
    }
    this.advance(nfa, end);
    const after = nextTimeout(pattern, nfa);
    if (after !== undefined && after > end) {
      // One timer per time (timers are deduplicated): a stale one finds nothing to time out.
      if (this.spec.timeDomain === 'event-time') this.scope.registerEventTimeTimer(after, undefined);
      else this.scope.registerProcessingTimeTimer(after, undefined);
    }
    if (isIdle(nfa)) this.nfa.clear();
    else this.nfa.update(nfa);
  }

  private advance(nfa: KeyNfa<T>, time: number): void {
    const { matches, timedOut } = advanceTime(this.spec.pattern, nfa, time);
    this.timedOut(timedOut);
    this.emit(matches);
  }

  private emit(matches: readonly FoundMatch<T>[]): void {
    const { fn, pattern } = this.spec;
    const collector = this.scope.collector;
    for (const m of matches) {
      const ctx = this.context(m.ts);
      collector.timestamp = m.ts;
      fn.processMatch(toMatch(pattern, m.path), ctx, collector);
    }
  }

  private timedOut(list: readonly TimedOut<T>[]): void {
    const { fn, pattern, timedOutTag } = this.spec;
    for (const t of list) {
      const match = toMatch(pattern, t.path);
      const ctx = this.context(t.timeoutAt);
      this.scope.collector.timestamp = t.timeoutAt;
      if (timedOutTag) this.scope.collector.side(timedOutTag, { match, timeoutAt: t.timeoutAt });
      fn.processTimedOutMatch?.(match, ctx);
    }
  }

  private context(ts: number): PatternContext<K> {
    const ctx = this.scope.context;
    ctx.timestamp = ts;
    return ctx;
  }

  /**
   * The input ended: no partial match can complete any more, so matches the skip strategy
   * held back for them are emitted now (Flink keeps them until the partial matches time out).
   */
  override endInput(): void {
    if (this.spec.pattern.skip.kind !== 'no-skip') {
      const backend = this.scope.backend;
      for (const key of backend.keys('cep-nfa')) {
        this.scope.setKey(key as K, Number.NaN);
        const nfa = this.nfa.value();
        if (!nfa || nfa.held.length === 0) continue;
        this.emit(releaseHeld(this.spec.pattern, nfa));
        this.nfa.update(nfa);
      }
      this.scope.collector.flush(this.out);
    }
    super.endInput();
  }

  override close(): void {
    super.close();
    this.spec.fn.close?.();
  }
}
