/**
 * Patterns changed while the step runs: JSON patterns added, replaced and removed by id on
 * the broadcast input, with snapshots and restores (also rescaled) in between.
 *
 * The property test states the meaning: the dynamic step's matches are exactly those of a
 * static CEP step per (pattern id, definition), run over the events that arrived while
 * that definition was active, its input ending when the definition went away (held
 * matches come out then, partial ones are dropped). A replace by the same definition is
 * no change. Bad updates go to dead letters and change nothing.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/cep/dynamic-patterns.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputTag, patternFromJson, type DynamicTimedOutMatch, type JsonPattern, type PatternUpdate } from '../../src/index.js';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf, keyGroupRange } from '../../src/state/key-groups.js';
import { OperatorHarness } from '../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../property.js';

interface E {
  readonly k: string;
  readonly i: number;
  readonly l: string;
  readonly amount: number;
}

const render = (m: Record<string, E[]>) =>
  Object.values(m)
    .flat()
    .sort((a, b) => a.i - b.i)
    .map((e) => `${e.l}${e.i}`)
    .join(' ');

function harness(initial: Record<string, JsonPattern | string> = {}, onError: 'fail' | 'dead-letter' = 'fail', subtask?: { index: number; parallelism: number }) {
  return OperatorHarness.dynamicPatterns<E, string, string>(
    (e) => e.k,
    { processMatch: (m, ctx, out) => out.collect(`${ctx.patternId}/${ctx.key}: ${render(m)}`) },
    { initial, onError, ...(subtask ? { subtask } : {}) },
  );
}

const AB: JsonPattern = { stages: [{ name: 'a', where: "l == 'a'" }, { name: 'b', contiguity: 'followedBy', where: "l == 'b'" }] };
const CB: JsonPattern = { stages: [{ name: 'c', where: "l == 'c'" }, { name: 'b', contiguity: 'followedBy', where: "l == 'b'" }] };
const AC: JsonPattern = { stages: [{ name: 'a', where: "l == 'a'" }, { name: 'c', contiguity: 'followedBy', where: "l == 'c'" }] };

let seq = 0;
/** Pushes events of key `k` (`'a b'`), one second apart from the last, each passed by the watermark at once. */
function push(h: OperatorHarness<E | PatternUpdate, string>, line: string, k = 'x'): void {
  for (const id of line.split(' ')) {
    const i = ++seq;
    h.processElement({ k, i, l: id, amount: 1 }, i * 1000).processWatermark(i * 1000);
  }
}
const update = (h: OperatorHarness<E | PatternUpdate, string>, u: unknown) => h.processElement(u as PatternUpdate, Number.NaN, 1);

describe('dynamic patterns', () => {
  it('adds, replaces and removes patterns mid-stream, keeping the partial matches of the patterns that did not change, across a restore', () => {
    seq = 0;
    const h = harness({ p1: AB });
    push(h, 'a'); // p1 waits for b
    update(h, { op: 'add', id: 'p2', pattern: CB });
    push(h, 'c'); // p2 waits for b
    // The same definition, written differently (another key order, a JSON string): no change, a1 stays.
    update(h, { op: 'replace', id: 'p1', pattern: JSON.stringify({ stages: [{ where: "l == 'a'", name: 'a' }, { contiguity: 'followedBy', name: 'b', where: "l == 'b'" }] }) });
    push(h, 'b');
    expect(h.values).toEqual(['p1/x: a1 b3', 'p2/x: c2 b3']);
    push(h, 'a'); // p1 waits with a4
    update(h, { op: 'replace', id: 'p1', pattern: AC }); // another definition: a4 is dropped
    push(h, 'c'); // p1 (a then c) has no a; p2 waits with c5 (and c2, which followedBy keeps)
    push(h, 'a'); // p1 waits with a6
    expect(h.values).toHaveLength(2);

    // A checkpoint here, restored into a new instance that knows no pattern at all: the checkpoint brings p1 (as AC) and p2 back.
    const snapshot = h.snapshot();
    const r = harness().initializeState(snapshot);
    push(r, 'c'); // p1: a6 c7; p2 waits with c7 too
    update(r, { op: 'remove', id: 'p2' });
    push(r, 'b'); // p2 is gone: no c…b match
    update(r, { op: 'add', id: 'p2', pattern: CB }); // back, but empty: c2, c5, c7 are forgotten
    push(r, 'b');
    push(r, 'c b');
    r.endInput();
    expect(r.values).toEqual(['p1/x: a6 c7', 'p2/x: c10 b11']);
    expect((r as unknown as { operator: { patternIds: string[] } }).operator.patternIds).toEqual(['p1', 'p2']);
  });

  it('sends bad updates to dead letters with a clear code, and changes nothing', () => {
    seq = 0;
    const h = harness({ p1: AB }, 'dead-letter');
    push(h, 'a');
    update(h, { op: 'add', id: 'p1', pattern: CB });
    update(h, { op: 'replace', id: 'nope', pattern: CB });
    update(h, { op: 'remove', id: 'nope' });
    update(h, { op: 'upsert', id: 'p1', pattern: CB });
    update(h, 'not an update');
    update(h, { op: 'replace', id: 'p1', pattern: { stages: [{ name: 'a', where: "l == 'a' &&" }] } });
    update(h, { op: 'replace', id: 'p1', pattern: { stages: [{ name: 'a', times: 'three' }] } });
    update(h, { op: 'add', id: 'p3', pattern: '{"stages": [' });
    push(h, 'b');
    expect(h.values).toEqual(['p1/x: a1 b2']);
    expect(h.deadLetters.map((d) => d.error.code)).toEqual([
      'PATTERN_UPDATE_REFUSED',
      'PATTERN_UPDATE_REFUSED',
      'PATTERN_UPDATE_REFUSED',
      'PATTERN_UPDATE_REFUSED',
      'PATTERN_UPDATE_REFUSED',
      'EXPRESSION_INVALID',
      'PATTERN_INVALID',
      'PATTERN_INVALID',
    ]);
    expect(h.deadLetters[5]!.error.message).toContain("pattern 'p1': stages[0].where, column 12");
    expect(h.deadLetters[6]!.error.message).toContain("pattern 'p1': stages[0].times");
    // An event that breaks a condition at run time (a number against a string) is a dead letter too, of that pattern.
    update(h, { op: 'add', id: 'typed', pattern: { stages: [{ name: 'x', where: 'amount > l' }] } });
    push(h, 'a');
    expect(h.deadLetters.at(-1)!.error.code).toBe('EXPRESSION_FAILED');
  });

  it('refuses a bad initial pattern when the job is built', () => {
    expect(() => harness({ p: { stages: [{ name: 'a', where: 'l === 1' }] } })).toThrow(/EXPRESSION_INVALID[\s\S]*stages\[0\]\.where, column 5/);
  });

  it('times out partial matches with their pattern id, and completes a trailing notFollowedBy', () => {
    const timedOut = new OutputTag<DynamicTimedOutMatch<E>>('timed-out');
    const h = OperatorHarness.dynamicPatterns<E, string, string>((e) => e.k, { processMatch: (m, ctx, out) => out.collect(`${ctx.patternId}: ${render(m)}`) }, {
      timedOutTag: timedOut,
      initial: {
        ab: { within: '5s', stages: [{ name: 'a', where: "l == 'a'" }, { name: 'b', contiguity: 'followedBy', where: "l == 'b'" }] },
        quiet: { within: '3s', stages: [{ name: 'a', where: "l == 'a'" }, { name: 'no', contiguity: 'notFollowedBy', where: "l == 'b'" }] },
      },
    });
    h.processElement({ k: 'x', i: 1, l: 'a', amount: 0 }, 1000).processWatermark(1000);
    h.processWatermark(10_000);
    expect(h.values).toEqual(['quiet: a1']);
    expect(h.sideOutput(timedOut).map((t) => `${t.patternId}@${t.timeoutAt}: ${render(t.match)}`)).toEqual(['ab@6000: a1']);
  });

  it('matches as a static step per definition would, over the events of its lifetime, across restores and rescaling', async () => {
    const POOL: JsonPattern[] = [
      AB,
      CB,
      AC,
      { skip: 'skip-past-last-event', stages: [{ name: 'a', where: "l == 'a'", oneOrMore: true }, { name: 'b', contiguity: 'next', where: "l != 'a'" }] },
      { skip: 'skip-to-next', stages: [{ name: 'x', where: 'amount > 2', times: [1, 2] }, { name: 'y', contiguity: 'followedByAny', where: 'amount > sum($x.amount)' }] },
      { stages: [{ name: 'a', where: "l == 'a'" }, { name: 'n', contiguity: 'notNext', where: "l == 'c'" }, { name: 'b', contiguity: 'followedBy', where: "l == 'b' || l == 'c'" }] },
    ];
    const IDS = ['r1', 'r2', 'r3'];
    type Step = { kind: 'event'; k: string; l: string; amount: number } | { kind: 'update'; op: 'add' | 'replace' | 'remove'; id: string; def: number } | { kind: 'restore'; rescale: boolean };
    const stepGen: fc.Arbitrary<Step> = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('event' as const), k: fc.constantFrom('x', 'y', 'z'), l: fc.constantFrom('a', 'b', 'c'), amount: fc.integer({ min: 0, max: 6 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), op: fc.constantFrom('add', 'add', 'replace', 'remove') as fc.Arbitrary<'add' | 'replace' | 'remove'>, id: fc.constantFrom(...IDS), def: fc.nat(POOL.length - 1) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), rescale: fc.boolean() }) },
    );

    await checkProperty(
      fc.asyncProperty(fc.array(stepGen, { maxLength: 60 }), async (steps) => {
        // The reference: per (id, definition) lifetime, the events it saw; run later through a static step.
        interface Life {
          id: string;
          def: number;
          events: Array<[E, number]>;
        }
        const lives: Life[] = [];
        const live = new Map<string, Life>();
        let expectedDead = 0;

        // The system: one instance, or two (subtasks by key group) after a rescaling restore; the output of every incarnation kept.
        let subtasks = [harness({}, 'dead-letter')];
        const output: string[] = [];
        const deadLetters = () => subtasks.reduce((n, h) => n + h.deadLetters.length, 0);
        let dead = 0;
        const ownerOf = (k: string) => {
          if (subtasks.length === 1) return subtasks[0]!;
          const g = keyGroupOf(k, DEFAULT_MAX_PARALLELISM);
          return subtasks.find((_, idx) => {
            const range = keyGroupRange(idx, subtasks.length, DEFAULT_MAX_PARALLELISM);
            return g >= range.from && g <= range.to;
          })!;
        };
        let i = 0;
        for (const s of steps) {
          if (s.kind === 'event') {
            const e: E = { k: s.k, i: ++i, l: s.l, amount: s.amount };
            for (const l of live.values()) l.events.push([e, i * 1000]);
            ownerOf(s.k).processElement(e, i * 1000);
            for (const h of subtasks) h.processWatermark(i * 1000);
          } else if (s.kind === 'update') {
            const exists = live.has(s.id);
            const ok = s.op === 'add' ? !exists : exists;
            if (!ok) expectedDead += subtasks.length;
            else if (s.op === 'remove') live.delete(s.id);
            else if (s.op === 'add' || live.get(s.id)!.def !== s.def) {
              const l: Life = { id: s.id, def: s.def, events: [] };
              lives.push(l);
              live.set(s.id, l);
            }
            const u: PatternUpdate = s.op === 'remove' ? { op: 'remove', id: s.id } : { op: s.op, id: s.id, pattern: POOL[s.def]! };
            for (const h of subtasks) h.processElement(u, Number.NaN, 1);
          } else {
            const snaps = subtasks.map((h) => h.snapshot());
            dead += deadLetters();
            for (const h of subtasks) output.push(...h.values);
            const parallelism = s.rescale ? 3 - subtasks.length : subtasks.length;
            subtasks = Array.from({ length: parallelism }, (_, index) => {
              const h = harness({}, 'dead-letter', { index, parallelism });
              return s.rescale ? h.initializeStateParts(snaps) : h.initializeState(snaps[index]);
            });
          }
        }
        for (const h of subtasks) {
          h.endInput();
          output.push(...h.values);
        }
        dead += deadLetters();

        const expected: string[] = [];
        for (const l of lives) {
          const h = OperatorHarness.pattern<E, string, string, string>(patternFromJson<E>(POOL[l.def]!), (e) => e.k, {
            processMatch: (m, ctx, out) => out.collect(`${l.id}/${ctx.key}: ${render(m)}`),
          });
          for (const [e, t] of l.events) h.processElement(e, t).processWatermark(t);
          h.endInput();
          expected.push(...h.values);
        }
        expect([...output].sort()).toEqual([...expected].sort());
        expect(dead).toBe(expectedDead);
      }),
      propertyRuns(300),
    );
  });
});
