/**
 * Compiles a {@link Pattern} into the states and edges of a non-deterministic automaton,
 * the way Flink CEP's `NFACompiler` does (walking the stages from the last to the first),
 * so that contiguity, quantifiers, `greedy`, `until`, optional stages and negative stages
 * mean what they mean in Flink. Groups of patterns are not supported.
 *
 * Each state has edges: `take` (consume the event and move), `ignore` (skip the event and
 * move, keeping the match so far) and `proceed` (an epsilon move, tried on the same event).
 * A `stop` state kills the partial match that reaches it; a `pending` state (a trailing
 * `notFollowedBy`) completes the match when `within` runs out.
 */
import { TRUE, and, not, or, type Condition } from './condition.js';
import { patternError, type Pattern, type Stage } from './pattern.js';
import type { AfterMatchSkipStrategy } from './skip-strategy.js';

/** What an edge does with the event. */
export type EdgeAction = 'take' | 'ignore' | 'proceed';

/** An edge of the automaton, taken when its condition holds for the event. */
export interface Edge<T> {
  readonly action: EdgeAction;
  readonly target: number;
  readonly condition: Condition<T>;
}

/** The kind of an automaton state. */
export type StateKind = 'start' | 'normal' | 'final' | 'stop' | 'pending';

/** A state of the automaton: the stage it belongs to (events it takes are recorded under that name). */
export interface NfaState<T> {
  readonly id: number;
  readonly name: string;
  kind: StateKind;
  readonly edges: Edge<T>[];
}

/** A compiled pattern: what the CEP operator runs. */
export interface CompiledPattern<T> {
  readonly states: readonly NfaState<T>[];
  readonly start: number;
  /** Undefined: partial matches never time out. */
  readonly withinMs: number | undefined;
  readonly skip: AfterMatchSkipStrategy;
  /** The positive stages' names: every match has an entry for each. */
  readonly names: readonly string[];
}

const END = '$end$';

/** Compiles `pattern`; refuses what cannot run (PATTERN_INVALID), naming the stage. */
export function compilePattern<T>(pattern: Pattern<T, string>): CompiledPattern<T> {
  const stages = pattern.stages;
  const last = stages[stages.length - 1]!;
  if (last.quantifier.consuming === 'not-follow' && pattern.withinMs === undefined) {
    throw patternError(`pattern stage '${last.name}': a pattern that ends with notFollowedBy needs within(…), the time after which the match is complete`);
  }
  const skip = pattern.skipStrategy;
  if ((skip.kind === 'skip-to-first' || skip.kind === 'skip-to-last') && !pattern.names.includes(skip.name)) {
    throw patternError(`the skip strategy ${skip.kind}('${skip.name}') names no positive stage of the pattern (stages: ${pattern.names.join(', ')})`);
  }
  const compiler = new Compiler<T>(stages, pattern.withinMs !== undefined);
  const start = compiler.compile();
  return { states: compiler.states, start, withinMs: pattern.withinMs, skip, names: pattern.names };
}

class Compiler<T> {
  readonly states: NfaState<T>[] = [];
  private readonly stopStates = new Map<string, NfaState<T>>();
  private index: number;
  private following: Stage<T> | undefined;
  private followingTake: Condition<T> | undefined;
  /** The take condition of what follows the stage being converted (undefined: the match ends after it). */
  private nextTake: Condition<T> | undefined;

  constructor(
    private readonly stages: readonly Stage<T>[],
    private readonly hasWithin: boolean,
  ) {
    this.index = stages.length - 1;
  }

  private get current(): Stage<T> {
    return this.stages[this.index]!;
  }

  compile(): number {
    let sink = this.state(END, 'final');
    for (; this.index > 0; this.index--) {
      const stage = this.current;
      const notCondition = stage.condition;
      if (stage.quantifier.consuming === 'not-follow') {
        // In the middle it becomes stop edges of the states around it; at the end, a state that waits for `within`.
        if (this.hasWithin && sink.kind === 'final') {
          const pending = this.state(stage.name, 'pending');
          pending.edges.push(edge('proceed', this.stopState(notCondition, stage.name), notCondition));
          pending.edges.push(edge('ignore', pending, not(notCondition)));
          sink = pending;
        }
      } else if (stage.quantifier.consuming === 'not-next') {
        const notNext = this.state(stage.name, 'normal');
        const stop = this.stopState(notCondition, stage.name);
        // Before the final state an ignore edge, so that reaching the end needs the next event.
        notNext.edges.push(edge(sink.kind === 'final' ? 'ignore' : 'proceed', sink, not(notCondition)));
        notNext.edges.push(edge('proceed', stop, notCondition));
        sink = notNext;
      } else {
        sink = this.convert(sink);
      }
      this.following = stage;
    }
    const start = this.convert(sink);
    start.kind = 'start';
    return start.id;
  }

  private convert(sink: NfaState<T>): NfaState<T> {
    const q = this.current.quantifier;
    // Greedy looks at what the next stage takes, not at this stage's own chain of states (as Flink, whose greedy narrows the next stage).
    this.nextTake = this.followingTake;
    let first: NfaState<T>;
    if (q.looping) {
      const looping = this.looping(this.copyWithoutTransitiveNots(sink));
      first = this.timesStates(looping, sink, q.times.from, q.times.from);
    } else if (q.quantified) {
      first = this.timesStates(sink, sink, q.times.from, q.times.to);
    } else {
      first = this.singleton(sink, sink, this.current.condition, this.ignoreCondition(), q.optional);
    }
    this.addStopStates(first);
    return first;
  }

  /** A chain of single states: `from` mandatory ones, then `to - from` optional ones, each able to proceed to `proceedTo`. */
  private timesStates(sink: NfaState<T>, proceedTo: NfaState<T>, from: number, to: number): NfaState<T> {
    const stage = this.current;
    const innerIgnore = this.withUntil(this.innerIgnoreCondition(), false);
    const take = this.withUntil(stage.condition, true)!;
    let last = sink;
    for (let i = from; i < to; i++) {
      last = this.singleton(last, proceedTo, take, innerIgnore, true);
      this.addStopStateToLooping(last);
    }
    for (let i = 0; i < from - 1; i++) {
      last = this.singleton(last, undefined, take, innerIgnore, false);
      this.addStopStateToLooping(last);
    }
    return this.singleton(last, proceedTo, take, this.ignoreCondition(), stage.quantifier.optional);
  }

  /**
   * One state taking one event. An optional one gets a twin without the proceed edge for
   * after it ignored an event, so that each way past it is branched exactly once.
   */
  private singleton(
    sink: NfaState<T>,
    proceedTo: NfaState<T> | undefined,
    take: Condition<T>,
    ignore: Condition<T> | undefined,
    optional: boolean,
  ): NfaState<T> {
    const stage = this.current;
    const greedy = stage.quantifier.greedy;
    const s = this.state(stage.name, 'normal');
    const target = this.copyWithoutTransitiveNots(sink);
    s.edges.push(edge('take', target, take));
    let proceed: Condition<T> = TRUE;
    if (optional && proceedTo) {
      if (greedy) proceed = this.greedyCondition(take, ignore);
      s.edges.push(edge('proceed', proceedTo, proceed));
    }
    if (ignore !== undefined) {
      let ignoreState = s;
      if (optional) {
        ignoreState = this.state(stage.name, 'normal');
        ignoreState.edges.push(edge('take', target, take));
        ignoreState.edges.push(edge('ignore', ignoreState, ignore));
        this.addStopStates(ignoreState);
        if (greedy && proceedTo) ignoreState.edges.push(edge('proceed', proceedTo, proceed));
      }
      s.edges.push(edge('ignore', ignoreState, ignore));
    }
    this.followingTake = optional && this.followingTake ? or(take, this.followingTake) : take;
    return s;
  }

  /** A loop: takes events into itself, proceeds to `sink`; a twin for after it ignored an event. */
  private looping(sink: NfaState<T>): NfaState<T> {
    const stage = this.current;
    const ignore = this.withUntil(this.innerIgnoreCondition(), false);
    const take = this.withUntil(stage.condition, true)!;
    const proceed = stage.quantifier.greedy ? this.greedyCondition(take, ignore) : TRUE;
    const loop = this.state(stage.name, 'normal');
    loop.edges.push(edge('proceed', sink, proceed));
    loop.edges.push(edge('take', loop, take));
    this.addStopStateToLooping(loop);
    if (ignore !== undefined) {
      const ignoreState = this.state(stage.name, 'normal');
      ignoreState.edges.push(edge('take', loop, take));
      ignoreState.edges.push(edge('ignore', ignoreState, ignore));
      loop.edges.push(edge('ignore', ignoreState, ignore));
      if (stage.quantifier.greedy) ignoreState.edges.push(edge('proceed', sink, proceed));
      this.addStopStateToLooping(ignoreState);
    }
    this.followingTake = this.followingTake ? or(take, this.followingTake) : take;
    return loop;
  }

  /** Greedy: proceed only on an event the stage cannot take and the next stage can (or that the stage can neither take nor ignore). */
  private greedyCondition(take: Condition<T>, ignore: Condition<T> | undefined): Condition<T> {
    // Nothing consuming follows (the match ends here): greedy changes nothing, as in Flink, whose
    // greedy narrows the next stage's edges and the final state has none. Found by the Flink differential.
    if (this.nextTake === undefined) return TRUE;
    const greedy = and(not(take), this.nextTake);
    return or(greedy, not(ignore === undefined ? take : or(take, ignore)));
  }

  private withUntil(condition: Condition<T> | undefined, isTake: boolean): Condition<T> | undefined {
    const until = this.current.until;
    if (until === undefined) return condition;
    if (condition !== undefined) return and(not(until), condition);
    return isTake ? not(until) : undefined;
  }

  private ignoreCondition(): Condition<T> | undefined {
    return this.ignoreFor(this.current.quantifier.consuming);
  }
  private innerIgnoreCondition(): Condition<T> | undefined {
    return this.ignoreFor(this.current.quantifier.inner);
  }
  private ignoreFor(consuming: string): Condition<T> | undefined {
    if (consuming === 'skip-till-next') return not(this.current.condition);
    if (consuming === 'skip-till-any') return TRUE;
    return undefined;
  }

  /** The negative `notFollowedBy` stages before the current one, reached back over optional stages. */
  private currentNotConditions(): Array<{ condition: Condition<T>; name: string }> {
    const found: Array<{ condition: Condition<T>; name: string }> = [];
    for (let i = this.index - 1; i >= 0; i--) {
      const prev = this.stages[i]!;
      const q = prev.quantifier;
      if (!q.optional && q.consuming !== 'not-follow') break;
      if (q.consuming === 'not-follow') found.push({ condition: prev.condition, name: prev.name });
    }
    return found;
  }

  /**
   * Taking an event of an optional stage ends the `notFollowedBy` stages before it: a copy
   * of `sink` without their stop edges (Flink's `copyWithoutTransitiveNots`).
   */
  private copyWithoutTransitiveNots(sink: NfaState<T>): NfaState<T> {
    const nots = this.currentNotConditions();
    if (nots.length === 0 || !this.current.quantifier.optional) return sink;
    const copy = this.state(sink.name, sink.kind);
    for (const e of sink.edges) {
      const target = this.states[e.target]!;
      if (e.action === 'proceed') {
        if (target.kind === 'stop') {
          if (!nots.some((n) => n.name === target.name)) copy.edges.push(e);
        } else {
          copy.edges.push(edge('proceed', this.copyWithoutTransitiveNots(target), e.condition));
        }
      } else {
        copy.edges.push(edge(e.action, e.target === sink.id ? copy : target, e.condition));
      }
    }
    return copy;
  }

  private addStopStates(s: NfaState<T>): void {
    for (const n of this.currentNotConditions()) s.edges.push(edge('proceed', this.stopState(n.condition, n.name), n.condition));
  }

  private addStopStateToLooping(s: NfaState<T>): void {
    const f = this.following;
    if (f && f.quantifier.consuming === 'not-follow') s.edges.push(edge('proceed', this.stopState(f.condition, f.name), f.condition));
  }

  /** One stop state per negative stage: reaching it (its take edge) kills the partial match. */
  private stopState(condition: Condition<T>, name: string): NfaState<T> {
    let stop = this.stopStates.get(name);
    if (!stop) {
      stop = this.state(name, 'stop');
      stop.edges.push(edge('take', stop, condition));
      this.stopStates.set(name, stop);
    }
    return stop;
  }

  private state(name: string, kind: StateKind): NfaState<T> {
    const s: NfaState<T> = { id: this.states.length, name, kind, edges: [] };
    this.states.push(s);
    return s;
  }
}

function edge<T>(action: EdgeAction, target: NfaState<T>, condition: Condition<T>): Edge<T> {
  return { action, target: target.id, condition };
}

