/**
 * Differential test of CEP: the streaming operator over seeded random keyed streams with
 * disorder, late events and a snapshot/restore in the middle (at the same parallelism or
 * rescaled to two subtasks), against the batch reference in `reference.ts` over the same
 * events sorted by time. Patterns are drawn from the reference's family; every skip
 * strategy. Matches are compared as multisets per run, late events exactly.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/cep`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputTag } from '../../src/core/output-tag.js';
import { AfterMatchSkip, Pattern, type AfterMatchSkipStrategy } from '../../src/index.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf, keyGroupRange } from '../../src/state/key-groups.js';
import { OperatorHarness } from '../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../property.js';
import { referenceMatches, type Contig, type Kind, type PatternSpec, type Skip, type StageSpec } from './reference.js';

interface E {
  readonly id: string;
  readonly k: string;
  readonly letter: string;
}

const LETTERS = ['a', 'b', 'c'];
const letters = fc.subarray(LETTERS, { minLength: 1, maxLength: 2 });
const contig = fc.constantFrom<Contig>('strict', 'relaxed', 'any');

const stage = (i: number, first: boolean): fc.Arbitrary<StageSpec> =>
  fc.record({
    name: fc.constant(`s${i}`),
    letters,
    contig,
    kind: first ? fc.constantFrom<Kind>('one', 'times2', 'times12', 'oneOrMore') : fc.constantFrom<Kind>('one', 'one', 'optional', 'times2', 'times12', 'oneOrMore'),
    inner: contig,
  });

const patternSpec: fc.Arbitrary<PatternSpec> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stage(i, i === 0))))
  .chain((stages) =>
    fc.record({
      stages: fc.constant(stages),
      notKind: fc.constantFrom('none', 'notNext', 'notFollowedBy', 'end') as fc.Arbitrary<'none' | 'notNext' | 'notFollowedBy' | 'end'>,
      notLetters: letters,
      within: fc.option(fc.constantFrom(300, 800), { nil: undefined }),
      skip: fc.constantFrom<Skip>('no-skip', 'skip-to-next', 'skip-past-last-event', 'skip-to-first', 'skip-to-last'),
      skipName: fc.constantFrom(...stages.map((s) => s.name)),
    }),
  )
  .map(({ stages, notKind, notLetters, within, skip, skipName }) => {
    let middleNot: PatternSpec['middleNot'];
    let endNot: PatternSpec['endNot'];
    const last = stages[stages.length - 1]!;
    const gap = stages.findIndex((s, i) => i + 1 < stages.length && s.kind === 'one' && stages[i + 1]!.kind === 'one');
    if ((notKind === 'notNext' || notKind === 'notFollowedBy') && gap >= 0) middleNot = { after: gap, kind: notKind, letters: notLetters };
    if (notKind === 'end' && (last.kind === 'one' || last.kind === 'oneOrMore')) endNot = notLetters;
    return { stages, middleNot, endNot, within: endNot ? (within ?? 800) : within, skip, skipName };
  });

function build(spec: PatternSpec): Pattern<E, string> {
  const skip: AfterMatchSkipStrategy =
    spec.skip === 'skip-to-first' ? AfterMatchSkip.skipToFirst(spec.skipName) : spec.skip === 'skip-to-last' ? AfterMatchSkip.skipToLast(spec.skipName) : { kind: spec.skip };
  const cond = (ls: readonly string[]) => (e: E) => ls.includes(e.letter);
  let p: Pattern<E, string> | undefined;
  spec.stages.forEach((s, i) => {
    if (p === undefined) p = Pattern.begin<E>(s.name, skip);
    else {
      const n = spec.middleNot;
      if (n && n.after === i - 1) p = n.kind === 'notNext' ? p.notNext('not').where(cond(n.letters)) : p.notFollowedBy('not').where(cond(n.letters));
      p = s.contig === 'strict' ? p.next(s.name) : s.contig === 'relaxed' ? p.followedBy(s.name) : p.followedByAny(s.name);
    }
    p = p.where(cond(s.letters));
    if (s.kind === 'optional') p = p.optional();
    if (s.kind === 'times2') p = p.times(2);
    if (s.kind === 'times12') p = p.times(1, 2);
    if (s.kind === 'oneOrMore') p = p.oneOrMore();
    if (s.kind !== 'one' && s.kind !== 'optional') {
      if (s.inner === 'strict') p = p.consecutive();
      if (s.inner === 'any') p = p.allowCombinations();
    }
  });
  if (spec.endNot) p = p!.notFollowedBy('not').where(cond(spec.endNot));
  if (spec.within !== undefined) p = p!.within(spec.within);
  return p!;
}

/** A stream: per event its key, letter, timestamp (disorder up to 300 ms), and whether a watermark follows it. */
const stream = fc.array(
  fc.record({ k: fc.constantFrom('x', 'y'), letter: fc.constantFrom(...LETTERS), jitter: fc.integer({ min: -300, max: 300 }), watermark: fc.boolean() }),
  { minLength: 1, maxLength: 14 },
);

const late = new OutputTag<E>('late');

describe('CEP against the batch reference', () => {
  it('the same matches and late events, with a snapshot/restore (maybe rescaled) in the middle', async () => {
    await checkProperty(
      fc.asyncProperty(patternSpec, stream, fc.nat(), fc.boolean(), async (spec, raw, cutAt, rescale) => {
        const pattern = build(spec);
        const render = (m: Record<string, E[]>, key: string) =>
          `${key}|` +
          Object.entries(m)
            .flatMap(([name, es]) => es.map((e) => `${name}:${e.id}`))
            .join(' ');
        const make = (subtask?: { index: number; parallelism: number }) =>
          OperatorHarness.pattern<E, string, string, string>(pattern, (e) => e.k, { processMatch: (m, ctx, out) => out.collect(render(m, ctx.key)) }, { lateTag: late, ...(subtask ? { subtask } : {}) });
        const events = raw.map((r, i) => ({ e: { id: `e${i}`, k: r.k, letter: r.letter } as E, ts: Math.max(0, 1000 + i * 100 + r.jitter), watermark: r.watermark }));
        const cut = cutAt % (events.length + 1);
        let harnesses = [make()];
        const route = (k: string) =>
          harnesses.length === 1 ? harnesses[0]! : harnesses.find((_, i) => { const r = keyGroupRange(i, 2, DEFAULT_MAX_PARALLELISM); const g = keyGroupOf(k); return g >= r.from && g <= r.to; })!;
        const done: string[] = [];
        const lateIds: string[] = [];
        const collect = () => {
          for (const h of harnesses) {
            done.push(...h.take());
            lateIds.push(...h.sideOutput(late).map((e) => e.id));
          }
        };
        // What the reference needs: the watermark each event met (it is late at or behind it).
        let watermark = Number.NEGATIVE_INFINITY;
        let maxTs = Number.NEGATIVE_INFINITY;
        const onTime: Array<{ e: E; ts: number }> = [];
        const expectedLate: string[] = [];
        events.forEach(({ e, ts, watermark: wm }, i) => {
          if (i === cut) {
            const snapshot = harnesses[0]!.snapshot();
            collect();
            harnesses = rescale ? [make({ index: 0, parallelism: 2 }), make({ index: 1, parallelism: 2 })] : [make()];
            for (const h of harnesses) {
              h.initializeStateParts([snapshot]);
              h.processWatermark(watermark);
            }
          }
          if (ts <= watermark) expectedLate.push(e.id);
          else onTime.push({ e, ts });
          (harnesses.length === 1 ? harnesses[0]! : route(e.k)).processElement(e, ts);
          maxTs = Math.max(maxTs, ts);
          if (wm) {
            watermark = Math.max(watermark, maxTs - 200);
            for (const h of harnesses) h.processWatermark(watermark);
          }
        });
        for (const h of harnesses) h.endInput();
        collect();

        const expected: string[] = [];
        for (const k of ['x', 'y']) {
          const mine = onTime.filter((x) => x.e.k === k).sort((a, b) => a.ts - b.ts || Number(a.e.id.slice(1)) - Number(b.e.id.slice(1)));
          const refEvents = mine.map((x) => ({ id: x.e.id, letter: x.e.letter, ts: x.ts }));
          expected.push(...referenceMatches(spec, refEvents).map((m) => `${k}|${m}`));
        }
        expect(lateIds.sort()).toEqual(expectedLate.sort());
        expect(done.sort()).toEqual(expected.sort());
      }),
      propertyRuns(400),
    );
  }, 120_000);
});
