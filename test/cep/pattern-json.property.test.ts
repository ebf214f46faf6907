/**
 * A pattern written as JSON, with conditions in the expression language, gives the same
 * matches as the same pattern written with the typed builder and hand-written closures:
 * random patterns over the whole vocabulary (every contiguity, quantifier, flag, `until`,
 * `within`, skip strategy, iterative conditions over `$stage`), random keyed streams, run
 * through the CEP operator side by side. A pattern the builder refuses must be refused
 * from JSON too, with the same code.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/cep/pattern-json.property.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AfterMatchSkip, Pattern, patternFromJson, SluiceError, type AfterMatchSkipStrategy, type Condition, type JsonPattern, type JsonStage } from '../../src/index.js';
import { OperatorHarness } from '../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../property.js';

interface E {
  readonly k: string;
  readonly i: number;
  readonly l: string;
  readonly amount: number;
}

/** A condition both ways: as an expression (may refer to an earlier stage as `$P`) and as a closure. */
interface Cond {
  readonly expr: (prev: string) => string;
  readonly fn: (prev: string) => Condition<E>;
}

const sum = (xs: readonly E[]) => xs.reduce((s, x) => s + x.amount, 0);
const CONDITIONS: Cond[] = [
  { expr: () => "l == 'a'", fn: () => (e) => e.l === 'a' },
  { expr: () => "l == 'b'", fn: () => (e) => e.l === 'b' },
  { expr: () => "l in ['b', 'c']", fn: () => (e) => e.l === 'b' || e.l === 'c' },
  { expr: () => 'amount >= 5', fn: () => (e) => e.amount >= 5 },
  { expr: () => "amount % 2 == 0 and not (l == 'c')", fn: () => (e) => e.amount % 2 === 0 && e.l !== 'c' },
  { expr: () => "amount * 2 - 3 < 8 || upper(l) == 'A'", fn: () => (e) => e.amount * 2 - 3 < 8 || e.l === 'a' },
  { expr: (p) => `amount > sum($${p}.amount)`, fn: (p) => (e, ctx) => e.amount > sum(ctx.eventsFor(p)) },
  { expr: (p) => `count($${p}) < 2 && l != 'a'`, fn: (p) => (e, ctx) => ctx.eventsFor(p).length < 2 && e.l !== 'a' },
  { expr: (p) => `$${p}[-1].amount == null || amount >= $${p}[-1].amount`, fn: (p) => (e, ctx) => { const xs = ctx.eventsFor(p); return xs.length === 0 || e.amount >= xs[xs.length - 1]!.amount; } },
];

type Quant = 'none' | 'times2' | 'times13' | 'times02' | 'oneOrMore' | 'timesOrMore2' | 'timesOrMore0';
interface StageGen {
  contiguity: JsonStage['contiguity'];
  where: number;
  or: number | null;
  quant: Quant;
  optional: boolean;
  inner: 'none' | 'consecutive' | 'allowCombinations';
  greedy: boolean;
  until: number | null;
}
interface PatternGen {
  stages: StageGen[];
  within: number | null;
  skip: 'no-skip' | 'skip-to-next' | 'skip-past-last-event' | 'skip-to-first' | 'skip-to-last';
  skipStage: number;
}

const stageGen = (first: boolean): fc.Arbitrary<StageGen> =>
  fc.record({
    contiguity: first ? fc.constant(undefined) : fc.constantFrom<JsonStage['contiguity']>('next', 'followedBy', 'followedByAny', 'notNext', 'notFollowedBy', 'followedBy'),
    where: fc.nat(CONDITIONS.length - 1),
    or: fc.option(fc.nat(CONDITIONS.length - 1), { nil: null, freq: 4 }),
    quant: fc.constantFrom<Quant>('none', 'none', 'times2', 'times13', 'times02', 'oneOrMore', 'timesOrMore2', 'timesOrMore0'),
    optional: fc.constantFrom(false, false, false, true),
    inner: fc.constantFrom('none', 'none', 'none', 'consecutive', 'allowCombinations'),
    greedy: fc.constantFrom(false, false, false, true),
    until: fc.option(fc.nat(CONDITIONS.length - 1), { nil: null, freq: 3 }),
    // Mostly patterns the builder takes (some are still refused, and must be from JSON too).
    tidy: fc.constantFrom(true, true, true, false),
  }).map(({ tidy, ...s }) => {
    if (!tidy) return s;
    const negative = s.contiguity === 'notNext' || s.contiguity === 'notFollowedBy';
    const quant: Quant = negative ? 'none' : s.quant;
    const loop = quant === 'oneOrMore' || quant.startsWith('timesOrMore');
    return {
      ...s,
      quant,
      optional: negative ? false : s.optional,
      inner: quant === 'none' ? ('none' as const) : s.inner,
      greedy: negative || s.inner === 'allowCombinations' || (quant === 'none' && !s.optional) ? false : s.greedy,
      until: loop ? s.until : null,
    };
  });

const patternGen: fc.Arbitrary<PatternGen> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    stages: fc.tuple(...Array.from({ length: n }, (_, i) => stageGen(i === 0))),
    within: fc.option(fc.constantFrom(4000, 9000), { nil: null }),
    skip: fc.constantFrom('no-skip', 'skip-to-next', 'skip-past-last-event', 'skip-to-first', 'skip-to-last'),
    skipStage: fc.nat(n - 1),
  }),
);

const name = (i: number) => `s${i}`;
/** Iterative conditions look at the first stage (empty until it took something). */
const prevOf = () => name(0);

function skipOf(g: PatternGen): AfterMatchSkipStrategy {
  switch (g.skip) {
    case 'no-skip':
      return AfterMatchSkip.noSkip();
    case 'skip-to-next':
      return AfterMatchSkip.skipToNext();
    case 'skip-past-last-event':
      return AfterMatchSkip.skipPastLastEvent();
    case 'skip-to-first':
      return AfterMatchSkip.skipToFirst(name(g.skipStage));
    case 'skip-to-last':
      return AfterMatchSkip.skipToLast(name(g.skipStage));
  }
}

/** The typed pattern, built in the same order patternFromJson applies the fields. */
function typed(g: PatternGen): Pattern<E, string> {
  let p: Pattern<E, string> | undefined;
  g.stages.forEach((s, i) => {
    const n = name(i);
    let q: Pattern<E, string>;
    if (i === 0) q = Pattern.begin<E, string>(n, skipOf(g));
    else {
      const c = s.contiguity!;
      q = c === 'next' ? p!.next(n) : c === 'followedBy' ? p!.followedBy(n) : c === 'followedByAny' ? p!.followedByAny(n) : c === 'notNext' ? p!.notNext(n) : p!.notFollowedBy(n);
    }
    q = q.where(CONDITIONS[s.where]!.fn(prevOf()));
    if (s.or !== null) q = q.or(CONDITIONS[s.or]!.fn(prevOf()));
    if (s.quant === 'times2') q = q.times(2);
    if (s.quant === 'times13') q = q.times(1, 3);
    if (s.quant === 'times02') q = q.times(0, 2);
    if (s.quant === 'oneOrMore') q = q.oneOrMore();
    if (s.quant === 'timesOrMore2') q = q.timesOrMore(2);
    if (s.quant === 'timesOrMore0') q = q.timesOrMore(0);
    if (s.optional) q = q.optional();
    if (s.inner === 'consecutive') q = q.consecutive();
    if (s.inner === 'allowCombinations') q = q.allowCombinations();
    if (s.greedy) q = q.greedy();
    if (s.until !== null) q = q.until(CONDITIONS[s.until]!.fn(prevOf()));
    p = q;
  });
  return g.within === null ? p! : p!.within(g.within);
}

function json(g: PatternGen): JsonPattern {
  const stages: JsonStage[] = g.stages.map((s, i) => {
    const o: Record<string, unknown> = { name: name(i), where: CONDITIONS[s.where]!.expr(prevOf()) };
    if (i > 0) o['contiguity'] = s.contiguity;
    if (s.or !== null) o['or'] = CONDITIONS[s.or]!.expr(prevOf());
    if (s.quant === 'times2') o['times'] = 2;
    if (s.quant === 'times13') o['times'] = [1, 3];
    if (s.quant === 'times02') o['times'] = [0, 2];
    if (s.quant === 'oneOrMore') o['oneOrMore'] = true;
    if (s.quant === 'timesOrMore2') o['timesOrMore'] = 2;
    if (s.quant === 'timesOrMore0') o['timesOrMore'] = 0;
    if (s.optional) o['optional'] = true;
    if (s.inner !== 'none') o[s.inner] = true;
    if (s.greedy) o['greedy'] = true;
    if (s.until !== null) o['until'] = CONDITIONS[s.until]!.expr(prevOf());
    return o as unknown as JsonStage;
  });
  const skip = g.skip === 'skip-to-first' || g.skip === 'skip-to-last' ? { kind: g.skip, name: name(g.skipStage) } : g.skip;
  return { stages, skip, ...(g.within === null ? {} : { within: g.within }) };
}

/** Builds a pattern, or the code of the error that refused it. */
function build(make: () => Pattern<E, string>): Pattern<E, string> | string {
  try {
    const p = make();
    // The compiler refuses some patterns too (a trailing notFollowedBy without within): run it on the typed one as patternFromJson does.
    OperatorHarness.pattern(p, (e: E) => e.k, { processMatch: () => {} });
    return p;
  } catch (e) {
    if (e instanceof SluiceError) return e.code;
    throw e;
  }
}

const eventsGen = fc.array(
  fc.record({ k: fc.constantFrom('x', 'y'), l: fc.constantFrom('a', 'b', 'c'), amount: fc.integer({ min: 0, max: 9 }), gap: fc.integer({ min: 0, max: 2500 }) }),
  { maxLength: 24 },
);

function run(p: Pattern<E, string>, events: readonly E[], times: readonly number[]): string[] {
  const h = OperatorHarness.pattern<E, string, string, string>(p, (e: E) => e.k, {
    processMatch: (m, ctx, out) =>
      out.collect(`${String(ctx.key)}:${Object.entries(m).map(([n, es]) => `${n}=${es.map((e) => e.i).join(',')}`).join(' ')}`),
  });
  events.forEach((e, i) => h.processElement(e, times[i]));
  h.endInput();
  return h.values;
}

describe('patterns as JSON', () => {
  it('match exactly what the same typed pattern matches, and are refused where it is', async () => {
    let compared = 0;
    let refusedBoth = 0;
    let withMatches = 0;
    await checkProperty(
      fc.asyncProperty(patternGen, eventsGen, async (g, raw) => {
        const a = build(() => typed(g));
        const b = build(() => patternFromJson<E>(json(g)));
        if (typeof a === 'string' || typeof b === 'string') {
          expect(b).toBe(a);
          refusedBoth++;
          return;
        }
        // String form too: the text goes through JSON.parse the same way.
        const c = patternFromJson<E>(JSON.stringify(json(g)));
        let t = 1000;
        const times: number[] = [];
        const events = raw.map((r, i) => {
          t += r.gap;
          times.push(t);
          return { k: r.k, i, l: r.l, amount: r.amount };
        });
        const expected = run(a, events, times);
        if (expected.length > 0) withMatches++;
        expect(run(b, events, times)).toEqual(expected);
        expect(run(c, events, times)).toEqual(expected);
        compared++;
      }),
      propertyRuns(800),
    );
    // The generator must reach both branches often: a property that only ever compares refusals proves little.
    expect(compared).toBeGreaterThan(300);
    expect(refusedBoth).toBeGreaterThan(100);
    expect(withMatches).toBeGreaterThan(150);
  });
});
