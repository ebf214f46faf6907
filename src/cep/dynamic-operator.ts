import type { OutputTag } from '../core/output-tag.js';
import type { Batch } from '../runtime/batch.js';
import { KeyedOperator } from '../runtime/operators/keyed-operator.js';
import { EventTimeBuffer } from './event-time-buffer.js';
import type { KeyedScopeSnapshot } from '../runtime/operators/keyed-scope.js';
import { mapState } from '../state/descriptors.js';
import type { Key, MapState } from '../state/types.js';
import { compilePattern, type CompiledPattern } from './nfa-compiler.js';
import { advanceTime, initialNfa, isIdle, nextTimeout, processEvent, releaseHeld, toMatch, type FoundMatch, type KeyNfa, type TimedOut } from './nfa.js';
import type { PatternContext } from './pattern-function.js';
import { canonicalPatternJson, patternFromJson, type JsonPattern } from './pattern-json.js';
import { checkPatternUpdate, refused, type PatternUpdate } from './pattern-update.js';

/** What a dynamic pattern function sees with a match: the pattern's id besides the key and time. */
export interface DynamicPatternContext<K extends Key> extends PatternContext<K> {
  /** The id of the pattern that matched (as given in its `add` / `replace` update). */
  readonly patternId: string;
}

/**
 * Turns the matches of dynamic patterns into results. The match is by stage name, as for a
 * typed pattern, but its names are only known at run time.
 *
 * @example
 * const alerts: DynamicPatternProcessFunction<Txn, number, Alert> = {
 *   processMatch: (m, ctx, out) => out.collect({ rule: ctx.patternId, card: ctx.key, events: Object.values(m).flat() }),
 * };
 */
export interface DynamicPatternProcessFunction<T, K extends Key, O> {
  /** Called with each match of a pattern, its id in `ctx.patternId`. */
  processMatch: (match: Record<string, T[]>, ctx: DynamicPatternContext<K>, out: import('../core/functions.js').Collector<O>) => void;
  /** A partial match that timed out (`within`). */
  processTimedOutMatch?: (match: Record<string, T[]>, ctx: DynamicPatternContext<K>) => void;
}

/** A timed-out partial match of a dynamic pattern, as the timed-out side output carries it. */
export interface DynamicTimedOutMatch<T> {
  readonly patternId: string;
  readonly match: Record<string, T[]>;
  readonly timeoutAt: number;
}

/** Everything the dynamic CEP step needs, fixed when the job is built. */
export interface DynamicCepSpec<T, K extends Key, O> {
  readonly keySelector: (value: T) => K;
  readonly timeDomain: 'event-time' | 'processing-time';
  readonly lateTag?: OutputTag<T> | undefined;
  readonly timedOutTag?: OutputTag<DynamicTimedOutMatch<T>> | undefined;
  readonly fn: DynamicPatternProcessFunction<T, K, O>;
  /** Patterns active from the start (before any update), by id. */
  readonly initial?: Readonly<Record<string, JsonPattern | string>> | undefined;
}

/** One active pattern. `rev` changes whenever the id gets a different definition: partial matches of an older rev are dropped. */
interface Active<T> {
  readonly json: JsonPattern | string;
  readonly canonical: string;
  readonly rev: number;
  readonly compiled: CompiledPattern<T>;
}

/** A key's matching state for one pattern, tagged with the pattern's rev it was built for. */
interface Slot<T> {
  readonly rev: number;
  readonly nfa: KeyNfa<T>;
}

/** The active patterns as a checkpoint holds them (the same in every parallel instance). */
interface PatternsSnapshot {
  readonly entries: Array<[string, { json: JsonPattern | string; rev: number }]>;
  readonly nextRev: number;
}

/** The step's snapshot: the keyed scope's (state, timers) and the active patterns. */
export interface DynamicCepSnapshot extends KeyedScopeSnapshot {
  readonly patterns: PatternsSnapshot;
}

const NFA = 'cep-dyn-nfa';

/**
 * The dynamic CEP operator: the keyed CEP operator's matching (same NFA, same time
 * handling) for a set of patterns that changes while the job runs. Input 0: the keyed
 * events. Input 1: {@link PatternUpdate}s, broadcast to every parallel instance, in the
 * same order everywhere, so every instance holds the same patterns (and any one instance's
 * copy serves a rescaled restore, as for broadcast state).
 *
 * Per key, each pattern has its own partial matches (`cep-dyn-nfa`, by pattern id); in
 * event time the key's events wait in one buffer (`cep-buffer`) shared by all patterns. An
 * update applies from its arrival: events matched after it (in event time: released by
 * the watermark after it) see the new set. A pattern added starts empty on every key;
 * replacing a pattern by a different definition, or removing it, drops its partial
 * matches on every key (after emitting the matches its skip strategy held back: they were
 * complete); replacing it by the same definition keeps them; the other patterns' partial
 * matches are never touched.
 */
export class DynamicCepOperator<T, K extends Key, O> extends KeyedOperator<T | PatternUpdate, K, O> {
  /** Events behind the watermark, dropped because no late-data output is set (read by the step's metrics). */
  get lateDropped(): number {
    return this.waiting?.lateDropped ?? 0;
  }
  /** Events behind the watermark sent to the late-data output (read by the step's metrics). */
  get lateToSideOutput(): number {
    return this.waiting?.lateToSideOutput ?? 0;
  }
  private nfa!: MapState<string, Slot<T>>;
  private waiting: EventTimeBuffer<T, K> | undefined;
  private readonly active = new Map<string, Active<T>>();
  private nextRev = 1;
  private ctx!: DynamicContext<K>;

  constructor(private readonly spec: DynamicCepSpec<T, K, O>) {
    super();
    for (const [id, json] of Object.entries(spec.initial ?? {})) this.put(id, json);
  }

  /** The ids of the active patterns, in the order they were added (for tests and metrics). */
  get patternIds(): string[] {
    return [...this.active.keys()];
  }

  protected openKeyed(): void {
    const scope = this.openScope((ts) => this.onTimer(ts));
    this.nfa = scope.backend.getState(mapState<string, Slot<T>>(NFA));
    this.waiting = new EventTimeBuffer(scope.backend.getState(mapState<number, T[]>('cep-buffer')), scope, this.runtime.uid, this.spec.lateTag);
    this.ctx = new DynamicContext(scope.context as unknown as PatternContext<K>);
  }

  override initializeState(state: unknown): void {
    const s = state as Partial<DynamicCepSnapshot>;
    if (s.patterns !== undefined) this.restorePatterns(s.patterns);
    if (s.state !== undefined) super.initializeState(keyedPart(s));
  }

  override initializeStateParts(parts: readonly unknown[]): void {
    const snapshots = parts as ReadonlyArray<Partial<DynamicCepSnapshot> | undefined>;
    const withPatterns = snapshots.find((p) => p?.patterns !== undefined);
    if (withPatterns !== undefined) this.restorePatterns(withPatterns.patterns!);
    super.initializeStateParts(snapshots.map((p) => (p === undefined || p.state === undefined ? undefined : keyedPart(p))));
  }

  override snapshotState(checkpointId?: number): DynamicCepSnapshot | Promise<DynamicCepSnapshot> {
    const patterns: PatternsSnapshot = {
      entries: [...this.active].map(([id, a]) => [id, { json: structuredClone(a.json), rev: a.rev }]),
      nextRev: this.nextRev,
    };
    const keyed = super.snapshotState(checkpointId);
    return keyed instanceof Promise ? keyed.then((k) => ({ ...k, patterns })) : { ...keyed, patterns };
  }

  processBatch(batch: Batch<T | PatternUpdate>, input: number): void {
    if (input === 1) this.updates(batch as Batch<PatternUpdate>);
    else this.events(batch as Batch<T>);
    this.scope.collector.flush(this.out);
  }

  private events(batch: Batch<T>): void {
    const processingTime = this.spec.timeDomain === 'processing-time';
    this.forEachKeyed(batch, this.spec.keySelector, 'pattern', (v, ts) => {
      if (!processingTime) return this.waiting!.add(v, ts);
      const now = this.runtime.clock.now();
      this.scope.context.timestamp = now;
      this.scope.collector.timestamp = now;
      this.run([[now, [v]]], now);
    });
  }

  private updates(batch: Batch<PatternUpdate>): void {
    const { values, timestamps } = batch;
    for (let i = 0; i < values.length; i++) {
      const u = values[i]!;
      try {
        this.apply(checkPatternUpdate(u));
      } catch (error) {
        this.runtime.userError(error, u, timestamps[i]!, 'pattern update');
      }
    }
  }

  /** Applies one update; refuses (and changes nothing) when it cannot apply. */
  private apply(u: PatternUpdate): void {
    const exists = this.active.has(u.id);
    if (u.op === 'add' && exists) throw refused(`pattern '${u.id}' is already active; send op 'replace' to change it`);
    if (u.op !== 'add' && !exists) throw refused(`pattern '${u.id}' is not active, so it cannot be ${u.op === 'remove' ? 'removed' : 'replaced'}; send op 'add' to add it`);
    if (u.op === 'remove') {
      this.retire(u.id);
      this.active.delete(u.id);
      return;
    }
    const before = this.active.get(u.id);
    const next = this.prepare(u.id, u.pattern);
    if (before !== undefined && before.canonical === next.canonical) return;
    if (before !== undefined) this.retire(u.id);
    this.active.set(u.id, { ...next, rev: this.nextRev++ });
  }

  private put(id: string, json: JsonPattern | string): void {
    this.active.set(id, { ...this.prepare(id, json), rev: this.nextRev++ });
  }

  private prepare(id: string, json: JsonPattern | string): Omit<Active<T>, 'rev'> {
    const where = `pattern '${id}'`;
    const pattern = patternFromJson<T>(json, where);
    const parsed = typeof json === 'string' ? (JSON.parse(json) as JsonPattern) : json;
    return { json: typeof json === 'string' ? json : structuredClone(json), canonical: canonicalPatternJson(parsed), compiled: compilePattern(pattern) };
  }

  /**
   * The pattern `id` goes away (removed, or replaced by another definition): on every key,
   * the matches its skip strategy held back are emitted, then its partial matches dropped.
   */
  private retire(id: string): void {
    const a = this.active.get(id)!;
    const scope = this.scope;
    const timestamp = scope.collector.timestamp;
    // The keys are listed first: entries are removed while we go through them.
    for (const key of scope.backend.keys(NFA)) {
      scope.setKey(key as K, timestamp);
      const slot = this.nfa.get(id);
      if (slot === undefined) continue;
      if (slot.rev === a.rev && slot.nfa.held.length > 0) this.emit(id, a.compiled, releaseHeld(a.compiled, slot.nfa));
      this.nfa.remove(id);
      if (this.nfa.isEmpty()) this.nfa.clear();
    }
  }

  private restorePatterns(s: PatternsSnapshot): void {
    this.active.clear();
    for (const [id, { json, rev }] of s.entries) this.active.set(id, { ...this.prepare(id, json), rev });
    this.nextRev = s.nextRev;
  }

  private onTimer(ts: number): void {
    if (this.spec.timeDomain === 'processing-time') {
      this.run([], ts);
      return;
    }
    this.run(this.waiting!.takeDue(), this.scope.watermark);
  }

  /** Runs the events through every active pattern of the current key, as the keyed CEP operator does for its one. */
  private run(batches: ReadonlyArray<readonly [number, readonly T[]]>, end: number): void {
    // A pattern removed or replaced since this key was last seen: its old state goes.
    for (const [id, slot] of this.nfa.entries()) if (this.active.get(id)?.rev !== slot.rev) this.nfa.remove(id);
    let timeout = Number.POSITIVE_INFINITY;
    for (const [id, a] of this.active) {
      const pattern = a.compiled;
      const slot = this.nfa.get(id);
      const nfa = slot?.nfa ?? initialNfa(pattern);
      for (const [time, events] of batches) {
        this.advance(id, pattern, nfa, time);
        for (const e of events) {
          try {
            this.emit(id, pattern, processEvent(pattern, nfa, e, time));
          } catch (error) {
            this.runtime.userError(error, e, time, `pattern '${id}' condition`);
          }
        }
      }
      this.advance(id, pattern, nfa, end);
      const after = nextTimeout(pattern, nfa);
      if (after !== undefined && after > end && after < timeout) timeout = after;
      if (isIdle(nfa)) {
        if (slot !== undefined) this.nfa.remove(id);
      } else {
        this.nfa.put(id, slot?.nfa === nfa ? slot : { rev: a.rev, nfa });
      }
    }
    if (Number.isFinite(timeout)) {
      if (this.spec.timeDomain === 'event-time') this.scope.registerEventTimeTimer(timeout, undefined);
      else this.scope.registerProcessingTimeTimer(timeout, undefined);
    }
    if (this.nfa.isEmpty()) this.nfa.clear();
  }

  private advance(id: string, pattern: CompiledPattern<T>, nfa: KeyNfa<T>, time: number): void {
    const { matches, timedOut } = advanceTime(pattern, nfa, time);
    this.timedOut(id, pattern, timedOut);
    this.emit(id, pattern, matches);
  }

  private emit(id: string, pattern: CompiledPattern<T>, matches: readonly FoundMatch<T>[]): void {
    const collector = this.scope.collector;
    for (const m of matches) {
      collector.timestamp = m.ts;
      this.spec.fn.processMatch(toMatch(pattern, m.path), this.context(id, m.ts), collector);
    }
  }

  private timedOut(id: string, pattern: CompiledPattern<T>, list: readonly TimedOut<T>[]): void {
    const { fn, timedOutTag } = this.spec;
    for (const t of list) {
      const match = toMatch(pattern, t.path);
      this.scope.collector.timestamp = t.timeoutAt;
      if (timedOutTag) this.scope.collector.side(timedOutTag, { patternId: id, match, timeoutAt: t.timeoutAt });
      fn.processTimedOutMatch?.(match, this.context(id, t.timeoutAt));
    }
  }

  private context(id: string, ts: number): DynamicPatternContext<K> {
    this.scope.context.timestamp = ts;
    this.ctx.patternId = id;
    return this.ctx;
  }

  /** The input ended: matches held back by skip strategies are emitted (as the keyed CEP operator does). */
  override endInput(): void {
    const backend = this.scope.backend;
    for (const key of backend.keys(NFA)) {
      this.scope.setKey(key as K, Number.NaN);
      for (const [id, slot] of this.nfa.entries()) {
        const a = this.active.get(id);
        if (a === undefined || a.rev !== slot.rev || slot.nfa.held.length === 0) continue;
        this.emit(id, a.compiled, releaseHeld(a.compiled, slot.nfa));
        this.nfa.put(id, slot);
      }
    }
    this.scope.collector.flush(this.out);
    super.endInput();
  }
}

/** The scope's pattern context with the id of the pattern whose match is handled. */
class DynamicContext<K extends Key> implements DynamicPatternContext<K> {
  patternId = '';
  constructor(private readonly base: PatternContext<K>) {}
  get key(): K {
    return this.base.key;
  }
  get timestamp(): number | undefined {
    return this.base.timestamp;
  }
  currentWatermark(): number {
    return this.base.currentWatermark();
  }
  currentProcessingTime(): number {
    return this.base.currentProcessingTime();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.base.output(tag, value);
  }
}

function keyedPart(s: Partial<DynamicCepSnapshot>): KeyedScopeSnapshot {
  const { patterns: _patterns, ...keyed } = s;
  return keyed as KeyedScopeSnapshot;
}
