/**
 * Runs a compiled pattern over one key's events (Flink CEP's `NFA`): partial matches advance
 * on each event, matches complete, `within` times them out, the skip strategy prunes.
 *
 * Flink keeps the events of all partial matches in a shared buffer with Dewey-numbered
 * versions, so that branches share their common prefix. Here each partial match points to
 * the last node of an immutable list of the events it took; branches share their prefix by
 * pointing to the same node. The matches are the same (a path is what Flink's versions
 * extract from its buffer), the bookkeeping is simpler, and a snapshot copies the shared
 * nodes once (structured clone keeps shared references).
 */
import type { ConditionContext } from './condition.js';
import type { CompiledPattern, NfaState } from './nfa-compiler.js';
import { pruningPoint, type TakenEvent } from './skip-strategy.js';

/** One taken event, linked to the one taken before it. */
export interface PathNode<T> {
  readonly name: string;
  readonly event: T;
  /** The event's position in the key's stream (1, 2, …): orders starts and matches. */
  readonly seq: number;
  readonly ts: number;
  readonly prev: PathNode<T> | null;
}

/** A partial match: where it is in the automaton and what it took. */
export interface PartialMatch<T> {
  readonly state: number;
  readonly path: PathNode<T> | null;
  /** The seq of its first event; -1 for the start state's empty match. */
  readonly start: number;
  readonly startTs: number;
}

/** A match found, possibly held back by the skip strategy until earlier partial matches resolve. */
export interface FoundMatch<T> {
  readonly path: PathNode<T>;
  readonly start: number;
  /** When it completed: the seq of the event that completed it (+0.5 when time did). */
  readonly done: number;
  /** The timestamp its output carries. */
  readonly ts: number;
}

/** A partial match that ran out of time. */
export interface TimedOut<T> {
  readonly path: PathNode<T> | null;
  /** Its first event's time plus `within`. */
  readonly timeoutAt: number;
}

/** One key's matching state: kept in keyed state between events. */
export interface KeyNfa<T> {
  partial: PartialMatch<T>[];
  held: FoundMatch<T>[];
  seq: number;
}

/** The state of a key that has seen nothing. */
export function initialNfa<T>(pattern: CompiledPattern<T>): KeyNfa<T> {
  return { partial: [{ state: pattern.start, path: null, start: -1, startTs: Number.NEGATIVE_INFINITY }], held: [], seq: 0 };
}

/** Whether the state holds nothing but the empty start match (it may be dropped). */
export function isIdle<T>(nfa: KeyNfa<T>): boolean {
  return nfa.held.length === 0 && nfa.partial.length === 1 && nfa.partial[0]!.start < 0;
}

/** The events of a path, oldest first. */
export function pathEvents<T>(path: PathNode<T> | null): PathNode<T>[] {
  const out: PathNode<T>[] = [];
  for (let n = path; n !== null; n = n.prev) out.push(n);
  return out.reverse();
}

/** The match as records by stage name (an empty array for a stage that took nothing). */
export function toMatch<T>(pattern: CompiledPattern<T>, path: PathNode<T> | null): Record<string, T[]> {
  const match: Record<string, T[]> = {};
  for (const name of pattern.names) match[name] = [];
  for (const n of pathEvents(path)) match[n.name]!.push(n.event);
  return match;
}

/** Advances one key's partial matches on `event`; returns the matches it emits (in order). */
export function processEvent<T>(pattern: CompiledPattern<T>, nfa: KeyNfa<T>, event: T, ts: number): FoundMatch<T>[] {
  const seq = ++nfa.seq;
  const states = pattern.states;
  const next: PartialMatch<T>[] = [];
  const found: FoundMatch<T>[] = [];
  const ctx = new Context<T>();
  for (const pm of nfa.partial) {
    let stopped = false;
    const kept: PartialMatch<T>[] = [];
    for (const n of step(states, pm, event, ts, seq, ctx)) {
      const kind = states[n.state]!.kind;
      if (kind === 'final') found.push({ path: n.path!, start: n.start, done: seq, ts });
      else if (kind === 'stop') stopped = true;
      else kept.push(n);
    }
    // A negative stage's event kills the whole partial match, every branch of it.
    if (!stopped) for (const k of kept) next.push(k);
  }
  return emit(pattern, nfa, next, found, true);
}

/**
 * No event older than `time` will come: partial matches older than `within` time out
 * (returned), and those waiting on a trailing `notFollowedBy` complete (emitted).
 */
export function advanceTime<T>(pattern: CompiledPattern<T>, nfa: KeyNfa<T>, time: number): { matches: FoundMatch<T>[]; timedOut: TimedOut<T>[] } {
  const within = pattern.withinMs;
  if (within === undefined) return { matches: [], timedOut: [] };
  const next: PartialMatch<T>[] = [];
  const found: FoundMatch<T>[] = [];
  const timedOut: TimedOut<T>[] = [];
  let changed = false;
  for (const pm of nfa.partial) {
    if (pm.start >= 0 && time - pm.startTs >= within) {
      changed = true;
      const timeoutAt = pm.startTs + within;
      if (pattern.states[pm.state]!.kind === 'pending') found.push({ path: pm.path!, start: pm.start, done: nfa.seq + 0.5, ts: timeoutAt });
      else timedOut.push({ path: pm.path, timeoutAt });
    } else {
      next.push(pm);
    }
  }
  if (!changed) return { matches: [], timedOut };
  return { matches: emit(pattern, nfa, next, found, true), timedOut };
}

/** The input ended: no partial match can complete any more, so held matches are emitted (pruned as the strategy says). */
export function releaseHeld<T>(pattern: CompiledPattern<T>, nfa: KeyNfa<T>): FoundMatch<T>[] {
  return emit(pattern, nfa, nfa.partial, [], false);
}

/** The earliest time a partial match times out, if any does. */
export function nextTimeout<T>(pattern: CompiledPattern<T>, nfa: KeyNfa<T>): number | undefined {
  if (pattern.withinMs === undefined) return undefined;
  let earliest = Number.POSITIVE_INFINITY;
  for (const pm of nfa.partial) if (pm.start >= 0 && pm.startTs < earliest) earliest = pm.startTs;
  return Number.isFinite(earliest) ? earliest + pattern.withinMs : undefined;
}

/**
 * Emits found matches as the skip strategy says: without skipping, all at once; otherwise
 * in the order of their first events, each waiting while a partial match that started
 * earlier is alive (`gate`), each pruning partial and found matches it overlaps.
 */
function emit<T>(pattern: CompiledPattern<T>, nfa: KeyNfa<T>, partial: PartialMatch<T>[], found: FoundMatch<T>[], gate: boolean): FoundMatch<T>[] {
  const skip = pattern.skip;
  if (skip.kind === 'no-skip') {
    nfa.partial = partial;
    return found.sort(byStart);
  }
  let held = nfa.held.length === 0 ? found.sort(byStart) : [...nfa.held, ...found].sort(byStart);
  const out: FoundMatch<T>[] = [];
  while (held.length > 0) {
    const m = held[0]!;
    if (gate && partial.some((p) => p.start >= 0 && p.start < m.start)) break;
    held.shift();
    out.push(m);
    const point = pruningPoint(skip, pathEvents(m.path) as TakenEvent[]);
    if (point === undefined) continue;
    const pruned = (start: number) => start >= 0 && (point.inclusive ? start <= point.seq : start < point.seq);
    partial = partial.filter((p) => !pruned(p.start));
    held = held.filter((h) => !pruned(h.start));
  }
  nfa.partial = partial;
  nfa.held = held;
  return out;
}

/** Orders matches by first event, then completion, then the events they took. */
function byStart<T>(a: FoundMatch<T>, b: FoundMatch<T>): number {
  if (a.start !== b.start) return a.start - b.start;
  if (a.done !== b.done) return a.done - b.done;
  const x = pathEvents(a.path);
  const y = pathEvents(b.path);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i]!.seq !== y[i]!.seq) return x[i]!.seq - y[i]!.seq;
  return x.length - y.length;
}

/** The partial matches one partial match becomes on `event` (Flink's `computeNextStates`). */
function step<T>(states: readonly NfaState<T>[], pm: PartialMatch<T>, event: T, ts: number, seq: number, ctx: Context<T>): PartialMatch<T>[] {
  ctx.reset(pm.path, ts);
  const isStart = states[pm.state]!.kind === 'start';
  const out: PartialMatch<T>[] = [];
  const stack = [pm.state];
  while (stack.length > 0) {
    const source = states[stack.pop()!]!;
    for (const e of source.edges) {
      if (!e.condition(event, ctx)) continue;
      if (e.action === 'proceed') {
        stack.push(e.target);
      } else if (e.action === 'ignore') {
        // The start state never ignores: it stays, and every event may begin a match.
        if (!isStart) out.push({ state: e.target, path: pm.path, start: pm.start, startTs: pm.startTs });
      } else {
        const path: PathNode<T> = { name: source.name, event, seq, ts, prev: pm.path };
        const start = isStart ? seq : pm.start;
        const startTs = isStart ? ts : pm.startTs;
        out.push({ state: e.target, path, start, startTs });
        const final = finalAfterProceed(states, e.target, event, ctx);
        if (final !== undefined) out.push({ state: final, path, start, startTs });
      }
    }
  }
  if (isStart) out.push(pm);
  return out;
}

/** The final state reachable from `state` by proceed edges on `event`: the match may end here. */
function finalAfterProceed<T>(states: readonly NfaState<T>[], state: number, event: T, ctx: Context<T>): number | undefined {
  const stack = [state];
  while (stack.length > 0) {
    for (const e of states[stack.pop()!]!.edges) {
      if (e.action !== 'proceed' || !e.condition(event, ctx)) continue;
      if (states[e.target]!.kind === 'final') return e.target;
      stack.push(e.target);
    }
  }
  return undefined;
}

/**
 * What conditions see: the partial match's events by stage (computed once, on first use).
 * One object per event, reset for each partial match (conditions must not keep it).
 */
class Context<T> implements ConditionContext<T> {
  private byName: Map<string, T[]> | undefined;
  private path: PathNode<T> | null = null;
  timestamp = Number.NaN;
  reset(path: PathNode<T> | null, timestamp: number): void {
    this.path = path;
    this.timestamp = timestamp;
    this.byName = undefined;
  }
  eventsFor(name: string): readonly T[] {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const n of pathEvents(this.path)) {
        const list = this.byName.get(n.name);
        if (list) list.push(n.event);
        else this.byName.set(n.name, [n.event]);
      }
    }
    return this.byName.get(name) ?? [];
  }
}
