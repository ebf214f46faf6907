import { SluiceError } from '../errors/index.js';
import { toPositiveMillis, type Duration } from '../time/duration.js';
import { TRUE, and, or, type Condition } from './condition.js';
import { single, type Consuming, type Quantifier } from './quantifier.js';
import { AfterMatchSkip, type AfterMatchSkipStrategy } from './skip-strategy.js';

/** One stage of a pattern: its name, condition and quantifier. */
export interface Stage<T> {
  readonly name: string;
  /** The stage's condition; always true when the stage has no `where`. */
  readonly condition: Condition<T>;
  /** The stop condition of a loop (`until`): an event that meets it ends the loop. */
  readonly until: Condition<T> | undefined;
  readonly quantifier: Quantifier;
}

/**
 * The events of a match by stage name, oldest first. Every positive stage has its entry;
 * a stage that took nothing (optional) has an empty array. Negative stages (`notNext`,
 * `notFollowedBy`) take no events and have none.
 */
export type Match<T, N extends string> = { readonly [K in N]: T[] };

/**
 * A pattern over events of type T: a sequence of named stages, each with a condition and a
 * quantifier, related by contiguity (`next`, `followedBy`, `followedByAny`, `notNext`,
 * `notFollowedBy`), bounded by `within`. Flink CEP's model and semantics. Immutable: each
 * method returns a new pattern and refuses a bad combination at once (PATTERN_INVALID).
 * The names of the positive stages (N) type the matches: `{ small: T[]; large: T[] }`.
 *
 * @typeParam T - the event type.
 * @typeParam N - the names of the positive stages.
 *
 * @example
 * // three small card transactions, then a large one, within 10 minutes
 * const fraud = Pattern.begin<Txn, 'small'>('small').where((t) => t.amount < 10).times(3)
 *   .next('large').where((t) => t.amount > 500)
 *   .within('10m');
 */
export class Pattern<T, N extends string = string> {
  private constructor(
    /** The stages, first to last. */
    readonly stages: readonly Stage<T>[],
    /** The longest time from a match's first event to its end (undefined: unbounded). */
    readonly withinMs: number | undefined,
    /** What a match drops (default: nothing). */
    readonly skipStrategy: AfterMatchSkipStrategy,
  ) {
    Object.freeze(this);
  }

  /**
   * The first stage of a pattern, named `name`. Give the event type and the name as type
   * arguments (`Pattern.begin<Txn, 'small'>('small')`) for typed matches; with the event
   * type alone the names are plain strings.
   */
  static begin<T, const S extends string = string>(name: S, skip: AfterMatchSkipStrategy = AfterMatchSkip.noSkip()): Pattern<T, S> {
    checkName(name, []);
    return new Pattern<T, S>([{ name, condition: TRUE, until: undefined, quantifier: single('skip-till-next') }], undefined, checkSkip(skip));
  }

  /** The stage's condition: an event must meet it (and the conditions given before). */
  where(condition: Condition<T, N>): Pattern<T, N> {
    checkFunction(condition, 'where', this.last.name);
    return this.withLast({ condition: and(this.last.condition, condition as Condition<T>) });
  }
  /** Widens the stage's condition: an event meeting this one also matches. */
  or(condition: Condition<T, N>): Pattern<T, N> {
    checkFunction(condition, 'or', this.last.name);
    return this.withLast({ condition: or(this.last.condition, condition as Condition<T>) });
  }
  /** A loop's stop condition: the first event meeting it ends the loop (it is not taken). Only after `oneOrMore()`/`timesOrMore()`. */
  until(condition: Condition<T, N>): Pattern<T, N> {
    checkFunction(condition, 'until', this.last.name);
    if (!this.last.quantifier.looping) this.fail('until() applies only to a loop: call oneOrMore() or timesOrMore(n) first');
    const before = this.last.until;
    return this.withLast({ until: before ? and(before, condition as Condition<T>) : (condition as Condition<T>) });
  }

  /** A new stage whose first event must come right after the previous stage's last (strict contiguity). */
  next<const S extends string>(name: S): Pattern<T, N | S> {
    return this.append(name, 'strict');
  }
  /** A new stage whose first event is the first matching one after the previous stage (relaxed contiguity). */
  followedBy<const S extends string>(name: S): Pattern<T, N | S> {
    return this.append(name, 'skip-till-next');
  }
  /** A new stage that may take any matching event after the previous stage, each a match of its own (non-deterministic relaxed contiguity). */
  followedByAny<const S extends string>(name: S): Pattern<T, N | S> {
    return this.append(name, 'skip-till-any');
  }
  /** A negative stage: the event right after the previous stage must not meet its condition. */
  notNext(name: string): Pattern<T, N> {
    if (this.last.quantifier.optional) this.fail('a negative stage cannot follow an optional one');
    return this.append(name, 'not-next') as Pattern<T, N>;
  }
  /**
   * A negative stage: no event meeting its condition may come between the previous stage
   * and the next one. As the last stage it needs `within`: the match is then emitted when
   * the time runs out without such an event.
   */
  notFollowedBy(name: string): Pattern<T, N> {
    if (this.last.quantifier.optional) this.fail('a negative stage cannot follow an optional one');
    return this.append(name, 'not-follow') as Pattern<T, N>;
  }

  /** Exactly `n` events; or, with `to`, from `n` to `to` events (`times(0, m)` is optional). */
  times(n: number, to?: number): Pattern<T, N> {
    this.checkQuantifiable('times');
    let from = n;
    const upper = to ?? n;
    if (!Number.isInteger(from) || !Number.isInteger(upper) || from < 0 || upper < from || upper < 1) {
      this.fail(`times(${n}${to === undefined ? '' : `, ${to}`}) needs whole numbers with 0 <= from <= to and to >= 1`);
    }
    const optional = from === 0 || this.last.quantifier.optional;
    if (from === 0) from = 1;
    return this.withQuantifier({ times: { from, to: upper }, quantified: true, optional });
  }
  /** One or more events (a loop). */
  oneOrMore(): Pattern<T, N> {
    return this.timesOrMore(1);
  }
  /** `n` or more events (a loop; 0 makes the stage optional). */
  timesOrMore(n: number): Pattern<T, N> {
    this.checkQuantifiable('timesOrMore');
    if (!Number.isInteger(n) || n < 0) this.fail(`timesOrMore(${n}) needs a whole number >= 0`);
    const optional = n === 0 || this.last.quantifier.optional;
    return this.withQuantifier({ times: { from: Math.max(1, n), to: Number.POSITIVE_INFINITY }, looping: true, quantified: true, optional });
  }
  /** The stage may take no event at all. */
  optional(): Pattern<T, N> {
    this.checkPositive('optional');
    // Both as Flink's Pattern.optional() refuses.
    if (this.last.quantifier.optional) this.fail('optional() was already applied (times(0, …) and timesOrMore(0) make a stage optional too)');
    const previous = this.stages[this.stages.length - 2];
    if (previous?.quantifier.greedy) this.fail(`an optional stage cannot follow a greedy one ('${previous.name}')`);
    return this.withQuantifier({ optional: true });
  }
  /** A repeated stage takes as many events as it can before the next stage may start. */
  greedy(): Pattern<T, N> {
    this.checkPositive('greedy');
    const q = this.last.quantifier;
    // As Flink: a single event stage, even optional, has nothing to be greedy about.
    if (!q.quantified) this.fail('greedy() applies to a repeated stage: call times(), oneOrMore() or timesOrMore() first');
    if (q.inner === 'skip-till-any') this.fail('greedy() cannot be combined with allowCombinations()');
    return this.withQuantifier({ greedy: true });
  }
  /** The events of a repeated stage must follow each other directly (strict contiguity inside the loop). */
  consecutive(): Pattern<T, N> {
    return this.withInner('strict', 'consecutive');
  }
  /** The events of a repeated stage may skip matching events too: every combination is a match (non-deterministic relaxed contiguity inside the loop). */
  allowCombinations(): Pattern<T, N> {
    if (this.last.quantifier.greedy) this.fail('allowCombinations() cannot be combined with greedy()');
    return this.withInner('skip-till-any', 'allowCombinations');
  }

  /** A match must end less than `duration` after its first event (partial matches older than that time out). The shortest of several wins. */
  within(duration: Duration): Pattern<T, N> {
    const ms = toPositiveMillis(duration, `within() of pattern stage '${this.last.name}'`);
    return new Pattern<T, N>(this.stages, this.withinMs === undefined ? ms : Math.min(ms, this.withinMs), this.skipStrategy);
  }

  /** The names of the positive stages, in order. */
  get names(): N[] {
    return this.stages.filter((s) => !isNegative(s)).map((s) => s.name as N);
  }

  private get last(): Stage<T> {
    return this.stages[this.stages.length - 1]!;
  }
  private append<S extends string>(name: S, consuming: Consuming): Pattern<T, N | S> {
    checkName(name, this.stages);
    const stage: Stage<T> = { name, condition: TRUE, until: undefined, quantifier: single(consuming) };
    return new Pattern<T, N | S>([...this.stages, stage], this.withinMs, this.skipStrategy);
  }
  private withLast(change: Partial<Stage<T>>): Pattern<T, N> {
    return new Pattern<T, N>([...this.stages.slice(0, -1), { ...this.last, ...change }], this.withinMs, this.skipStrategy);
  }
  private withQuantifier(change: Partial<Quantifier>): Pattern<T, N> {
    return this.withLast({ quantifier: { ...this.last.quantifier, ...change } });
  }
  private withInner(inner: Consuming, what: string): Pattern<T, N> {
    const q = this.last.quantifier;
    if (!q.quantified) this.fail(`${what}() applies to a repeated stage: call times(), oneOrMore() or timesOrMore() first`);
    if (q.inner !== 'skip-till-next') this.fail(`${what}(): the contiguity inside this stage was already set`);
    return this.withQuantifier({ inner });
  }
  private checkPositive(what: string): void {
    if (isNegative(this.last)) this.fail(`${what}() does not apply to a negative stage (notNext, notFollowedBy)`);
  }
  private checkQuantifiable(what: string): void {
    this.checkPositive(what);
    if (this.last.quantifier.quantified) this.fail(`${what}(): the stage already has a quantifier`);
  }
  private fail(message: string): never {
    throw patternError(`pattern stage '${this.last.name}': ${message}`);
  }
}

/** Whether a stage is negative (`notNext`, `notFollowedBy`). */
export function isNegative(stage: Stage<any>): boolean {
  return stage.quantifier.consuming === 'not-next' || stage.quantifier.consuming === 'not-follow';
}

/** The PATTERN_INVALID error. */
export function patternError(message: string): SluiceError {
  return new SluiceError('PATTERN_INVALID', message);
}

function checkName(name: string, stages: readonly Stage<any>[]): void {
  if (typeof name !== 'string' || name.length === 0) throw patternError(`a pattern stage needs a non-empty name, got ${String(name)}`);
  if (stages.some((s) => s.name === name)) throw patternError(`pattern stage name '${name}' is used twice; each stage needs its own name`);
}

function checkFunction(fn: unknown, what: string, stage: string): void {
  if (typeof fn !== 'function') throw patternError(`pattern stage '${stage}': ${what}() needs a function (event, ctx) => boolean`);
}

function checkSkip(skip: AfterMatchSkipStrategy): AfterMatchSkipStrategy {
  const kinds = ['no-skip', 'skip-to-next', 'skip-past-last-event', 'skip-to-first', 'skip-to-last'];
  if (!skip || !kinds.includes(skip.kind)) throw patternError('Pattern.begin() needs a skip strategy from AfterMatchSkip (noSkip(), skipToNext(), …)');
  return skip;
}
