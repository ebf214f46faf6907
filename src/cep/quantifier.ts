/**
 * How a stage of a pattern consumes events (Flink's `Quantifier`): how many events, how the
 * stage relates to the one before it, and how the events of a repeated stage relate to each
 * other.
 */

/**
 * How an event relates to the event before it (Flink's contiguity):
 * - `strict`: the very next event (`next`, `consecutive()`);
 * - `skip-till-next`: the first later event that matches, others are skipped (`followedBy`,
 *   and the default between the events of a repeated stage);
 * - `skip-till-any`: any later event that matches, each one a match of its own
 *   (`followedByAny`, `allowCombinations()`);
 * - `not-next` / `not-follow`: a negative stage (`notNext`, `notFollowedBy`).
 */
export type Consuming = 'strict' | 'skip-till-next' | 'skip-till-any' | 'not-next' | 'not-follow';

/** The number of events of a stage: from `from` to `to` (Infinity for a loop). */
export interface Times {
  readonly from: number;
  readonly to: number;
}

/** The quantifier of one stage, immutable. */
export interface Quantifier {
  /** How the stage's first event relates to the event before it. */
  readonly consuming: Consuming;
  /** How the events of a repeated stage relate to each other. */
  readonly inner: Consuming;
  /** Number of events; `{ from: 1, to: 1 }` for a single event. */
  readonly times: Times;
  /** A loop: `oneOrMore()` or `timesOrMore(n)` (`times.to` is then Infinity). */
  readonly looping: boolean;
  /** `times(…)`, `oneOrMore()` or `timesOrMore(…)` was applied. */
  readonly quantified: boolean;
  readonly optional: boolean;
  readonly greedy: boolean;
}

/** The quantifier of a new stage: one event, related to the previous one by `consuming`. */
export function single(consuming: Consuming): Quantifier {
  return { consuming, inner: 'skip-till-next', times: { from: 1, to: 1 }, looping: false, quantified: false, optional: false, greedy: false };
}
