/** Shared by the CEP tests: events named like the Flink documentation's (`a1`, `b2`, `c`), and a harness around the CEP operator. */
import type { Match, Pattern } from '../../src/cep/pattern.js';
import type { TimedOutMatch } from '../../src/cep/pattern-function.js';
import { OutputTag } from '../../src/core/output-tag.js';
import { OperatorHarness, type OperatorHarnessOptions } from '../../src/testing/index.js';

/** An event: its id (`a1`: letter `a`), its key, and its position in the input. */
export interface Ev {
  readonly id: string;
  readonly k: string;
  readonly i: number;
  readonly amount?: number;
}

/** A condition on the event's letter (`is('a', 'b')`). */
export const is =
  (...letters: string[]) =>
  (e: Ev): boolean =>
    letters.includes(e.id[0]!);

/** A match as the ids of its events in input order (`'a b1 c'`). */
export function render(m: Record<string, readonly Ev[]>): string {
  return Object.values(m)
    .flat()
    .sort((x, y) => x.i - y.i)
    .map((e) => e.id)
    .join(' ');
}

export const lateTag = new OutputTag<Ev>('late');
export const timedOutTag = new OutputTag<TimedOutMatch<Ev, string>>('timed-out');

/** A harness around the CEP operator for `pattern`, emitting rendered matches. */
export function cepHarness<N extends string>(
  pattern: Pattern<Ev, N>,
  o: { processingTime?: boolean; harness?: OperatorHarnessOptions; select?: (m: Match<Ev, N>) => string } = {},
): OperatorHarness<Ev, string> {
  const select = o.select ?? ((m: Match<Ev, N>) => render(m));
  return OperatorHarness.pattern(pattern, (e: Ev) => e.k, { processMatch: (m, _ctx, out) => out.collect(select(m)) }, {
    ...o.harness,
    processingTime: o.processingTime ?? false,
    lateTag,
    timedOutTag: timedOutTag as OutputTag<TimedOutMatch<Ev, N>>,
  });
}

/** Events from a line of ids (`'a c b1 b2'`), one second apart, all of key `k`. */
export function events(line: string, k = 'k'): Ev[] {
  return line.split(' ').map((id, i) => ({ id, k, i }));
}

/** The matches of `pattern` over the events of `line` (event time, one second apart), to the end of input. */
export function matches<N extends string>(pattern: Pattern<Ev, N>, line: string): string[] {
  const h = cepHarness(pattern);
  for (const e of events(line)) h.processElement(e, (e.i + 1) * 1000);
  h.endInput();
  return h.values;
}
