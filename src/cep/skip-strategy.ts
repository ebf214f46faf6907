/**
 * After-match skip strategies (Flink's `AfterMatchSkipStrategy`): once a match is found,
 * which partial matches (and matches found at the same time) are dropped.
 */

/**
 * What is dropped after a match: partial and completed matches whose first event is
 * - `no-skip`: none (every match);
 * - `skip-to-next`: the match's first event (one match per first event);
 * - `skip-past-last-event`: at or before the match's last event (matches do not overlap);
 * - `skip-to-first` / `skip-to-last`: before the first / last event the match took for
 *   stage `name` (nothing when it took none).
 *
 * Under every strategy but `no-skip`, matches come out in the order of their first
 * events: a match waits while a partial match that started earlier may still complete.
 */
export type AfterMatchSkipStrategy =
  | { readonly kind: 'no-skip' }
  | { readonly kind: 'skip-to-next' }
  | { readonly kind: 'skip-past-last-event' }
  | { readonly kind: 'skip-to-first'; readonly name: string }
  | { readonly kind: 'skip-to-last'; readonly name: string };

/**
 * The after-match skip strategies, given to `Pattern.begin(name, skip)`.
 *
 * @example
 * Pattern.begin<Txn, 'a'>('a', AfterMatchSkip.skipPastLastEvent()).where((t) => t.small).times(3);
 */
export const AfterMatchSkip = {
  /** Every match is emitted (the default). */
  noSkip: (): AfterMatchSkipStrategy => Object.freeze({ kind: 'no-skip' }),
  /** At most one match per first event. */
  skipToNext: (): AfterMatchSkipStrategy => Object.freeze({ kind: 'skip-to-next' }),
  /** Matches never share an event: everything that started before the match ended is dropped. */
  skipPastLastEvent: (): AfterMatchSkipStrategy => Object.freeze({ kind: 'skip-past-last-event' }),
  /** Drops what started before the first event the match took for stage `name`. */
  skipToFirst: (name: string): AfterMatchSkipStrategy => Object.freeze({ kind: 'skip-to-first', name }),
  /** Drops what started before the last event the match took for stage `name`. */
  skipToLast: (name: string): AfterMatchSkipStrategy => Object.freeze({ kind: 'skip-to-last', name }),
} as const;

/** A taken event of a match as the strategy sees it: its stage and its position in the key's stream. */
export interface TakenEvent {
  readonly name: string;
  readonly seq: number;
}

/**
 * The position from which partial matches survive, or undefined when the match prunes
 * nothing; `inclusive`: a start at that very position is dropped too.
 */
export function pruningPoint(strategy: AfterMatchSkipStrategy, taken: readonly TakenEvent[]): { seq: number; inclusive: boolean } | undefined {
  if (taken.length === 0) return undefined;
  switch (strategy.kind) {
    case 'no-skip':
      return undefined;
    case 'skip-to-next':
      return { seq: taken[0]!.seq, inclusive: true };
    case 'skip-past-last-event':
      return { seq: taken[taken.length - 1]!.seq, inclusive: true };
    case 'skip-to-first':
    case 'skip-to-last': {
      const named = taken.filter((t) => t.name === strategy.name);
      if (named.length === 0) return undefined;
      return { seq: (strategy.kind === 'skip-to-first' ? named[0]! : named[named.length - 1]!).seq, inclusive: false };
    }
  }
}
