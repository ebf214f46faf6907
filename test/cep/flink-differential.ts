/**
 * The differential comparison of Sluice's CEP with Apache Flink CEP (issue 22 item 4):
 * seeded random keyed event streams × seeded random patterns over the whole vocabulary
 * (every contiguity, quantifier, flag, `until`, `within`, skip strategy), run through
 * Sluice's CEP operator (from the JSON form, so the JSON path is covered too) and through
 * Flink's (bench/peers/flink-cep, `FlinkCep.java`, built once with Maven and cached in its
 * target/). Matches are compared as multisets per pattern.
 *
 * Used by test/cep/flink-differential.test.ts and by `npx tsx scripts/cep-flink-diff.ts`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { patternFromJson, SluiceError, type JsonPattern, type JsonStage } from '../../src/index.js';
import { OperatorHarness } from '../../src/testing/index.js';

export const FLINK_CEP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'peers', 'flink-cep');

export interface DiffEvent {
  readonly k: string;
  readonly i: number;
  readonly l: string;
  readonly t: number;
}

/** A stage as both sides read it: conditions are sets of letters. */
interface StageSpec {
  readonly name: string;
  readonly contiguity: JsonStage['contiguity'] | undefined;
  readonly where: string;
  readonly or: string | null;
  /** '-', 'n', 'n-m' or 'n+'. */
  readonly times: string;
  readonly flags: string;
  readonly until: string | null;
}
export interface PatternSpec {
  readonly stages: readonly StageSpec[];
  readonly skip: 'no-skip' | 'skip-to-next' | 'skip-past-last-event' | 'skip-to-first' | 'skip-to-last';
  readonly skipName: string;
  readonly within: number | null;
}

const letterSet = fc.constantFrom('a', 'b', 'c', 'ab', 'bc', 'ac');
const stageSpec = (i: number): fc.Arbitrary<StageSpec> =>
  fc
    .record({
      contiguity: i === 0 ? fc.constant(undefined) : fc.constantFrom<JsonStage['contiguity']>('next', 'followedBy', 'followedByAny', 'notNext', 'notFollowedBy', 'followedBy'),
      where: letterSet,
      or: fc.option(letterSet, { nil: null, freq: 5 }),
      // No '0+': Flink refuses timesOrMore(0), which Sluice takes as an optional loop (a documented difference).
      times: fc.constantFrom('-', '-', '-', '2', '1-3', '0-2', '1+', '2+'),
      optional: fc.constantFrom(false, false, false, true),
      inner: fc.constantFrom('', '', '', 'c', 'a'),
      greedy: fc.constantFrom(false, false, false, true),
      until: fc.option(letterSet, { nil: null, freq: 3 }),
    })
    .map((s) => {
      const negative = s.contiguity === 'notNext' || s.contiguity === 'notFollowedBy';
      const times = negative ? '-' : s.times;
      const loop = times.endsWith('+');
      const optional = !negative && s.optional;
      const inner = times === '-' ? '' : s.inner;
      const greedy = !negative && inner !== 'a' && (times !== '-' || optional) && s.greedy;
      return { name: `s${i}`, contiguity: s.contiguity, where: s.where, or: s.or, times, flags: `${optional ? 'o' : ''}${inner}${greedy ? 'g' : ''}`, until: loop ? s.until : null };
    });

export const patternSpec: fc.Arbitrary<PatternSpec> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    stages: fc.tuple(...Array.from({ length: n }, (_, i) => stageSpec(i))),
    skip: fc.constantFrom('no-skip', 'no-skip', 'skip-to-next', 'skip-past-last-event', 'skip-to-first', 'skip-to-last'),
    skipName: fc.constantFrom(...Array.from({ length: n }, (_, i) => `s${i}`)),
    within: fc.option(fc.constantFrom(3000, 8000), { nil: null }),
  }),
);

/** The pattern as JSON (conditions `l in ['a', 'b']`). */
export function toJson(p: PatternSpec): JsonPattern {
  const cond = (letters: string) => `l in [${[...letters].map((x) => `'${x}'`).join(', ')}]`;
  const stages = p.stages.map((s, i) => {
    const o: Record<string, unknown> = { name: s.name, where: cond(s.where) };
    if (i > 0) o['contiguity'] = s.contiguity;
    if (s.or !== null) o['or'] = cond(s.or);
    if (s.times.endsWith('+')) {
      const n = Number(s.times.slice(0, -1));
      if (n === 1) o['oneOrMore'] = true;
      else o['timesOrMore'] = n;
    } else if (s.times.includes('-') && s.times !== '-') o['times'] = s.times.split('-').map(Number);
    else if (s.times !== '-') o['times'] = Number(s.times);
    if (s.flags.includes('o')) o['optional'] = true;
    if (s.flags.includes('c')) o['consecutive'] = true;
    if (s.flags.includes('a')) o['allowCombinations'] = true;
    if (s.flags.includes('g')) o['greedy'] = true;
    if (s.until !== null) o['until'] = cond(s.until);
    return o as unknown as JsonStage;
  });
  const skip = p.skip === 'skip-to-first' || p.skip === 'skip-to-last' ? { kind: p.skip, name: p.skipName } : p.skip;
  return { stages, skip, ...(p.within === null ? {} : { within: p.within }) };
}

/** The pattern as FlinkCep.java's line. */
export function toLine(p: PatternSpec): string {
  const stages = p.stages.map((s) => [s.name, s.contiguity ?? 'begin', s.where, s.or ?? '-', s.times, s.flags, s.until ?? '-'].join(':'));
  return [p.skip, p.skipName, p.within ?? '-', ...stages].join('|');
}

/** Seeded patterns that Sluice's builder takes (Flink is expected to take them too), `count` of them. */
export function samplePatterns(seed: number, count: number): PatternSpec[] {
  const out: PatternSpec[] = [];
  for (const p of fc.sample(patternSpec, { seed, numRuns: count * 4 })) {
    try {
      patternFromJson(toJson(p));
      out.push(p);
    } catch (e) {
      if (!(e instanceof SluiceError)) throw e;
    }
    if (out.length === count) break;
  }
  return out;
}

/** A seeded keyed stream: `keys` keys, letters a–c, strictly increasing timestamps. */
export function sampleEvents(seed: number, count: number, keys: number): DiffEvent[] {
  const raw = fc.sample(fc.record({ k: fc.integer({ min: 0, max: keys - 1 }), l: fc.constantFrom('a', 'b', 'c'), gap: fc.integer({ min: 1, max: 400 }) }), { seed, numRuns: count });
  let t = 1_000;
  return raw.map((r, i) => ({ k: `k${r.k}`, i, l: r.l, t: (t += r.gap) }));
}

/** A match rendered the same way on both sides: `pattern TAB key TAB stage=i,i …` (stages in name order, empty ones left out). */
function render(p: number, key: string, m: Record<string, readonly { i: number }[]>): string {
  const stages = Object.entries(m)
    .filter(([, es]) => es.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, es]) => `${n}=${es.map((e) => e.i).join(',')}`);
  return `${p}\t${key}\t${stages.join(' ')}`;
}

/** Sluice's matches of each pattern (event time, a watermark after each event, then the final watermark). */
export function sluiceMatches(patterns: readonly PatternSpec[], events: readonly DiffEvent[]): string[] {
  const out: string[] = [];
  patterns.forEach((spec, p) => {
    const h = OperatorHarness.pattern<DiffEvent, string, string, string>(patternFromJson<DiffEvent>(toJson(spec)), (e) => e.k, {
      processMatch: (m, ctx, o) => o.collect(render(p, ctx.key, m)),
    });
    for (const e of events) h.processElement(e, e.t).processWatermark(e.t - 1);
    // The final watermark, as Flink gets at the end of a bounded input; not endInput(): Sluice then also
    // emits the matches a skip strategy still holds back for a partial match that can no longer complete,
    // which Flink never emits (a deliberate difference: see bench/peers/flink-cep/DIFFERENCES.md).
    h.processWatermark(Number.POSITIVE_INFINITY);
    for (const v of h.values) out.push(v);
  });
  return out;
}

/** Builds the Flink peer once (Maven; the first time downloads Flink into ~/.m2); later calls find it in target/. */
export function buildFlinkCep(): void {
  if (existsSync(join(FLINK_CEP_DIR, 'target', 'classes', 'sluice', 'cep', 'FlinkCep.class')) && existsSync(join(FLINK_CEP_DIR, 'target', 'lib'))) return;
  execFileSync('mvn', ['-B', '-q', 'package'], { cwd: FLINK_CEP_DIR, stdio: 'inherit', timeout: 600_000 });
}

/** Flink CEP's matches of each pattern over the same events. */
export function flinkMatches(patterns: readonly PatternSpec[], events: readonly DiffEvent[], timeoutMs = 120_000): string[] {
  buildFlinkCep();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-flink-cep-'));
  writeFileSync(join(dir, 'events.tsv'), events.map((e) => `${e.k}\t${e.i}\t${e.l}\t${e.t}`).join('\n') + '\n');
  writeFileSync(join(dir, 'patterns.txt'), patterns.map(toLine).join('\n') + '\n');
  const cp = `${join(FLINK_CEP_DIR, 'target', 'classes')}:${join(FLINK_CEP_DIR, 'target', 'lib', '*')}`;
  execFileSync('java', ['-Xmx1g', '-cp', cp, 'sluice.cep.FlinkCep', join(dir, 'events.tsv'), join(dir, 'patterns.txt'), join(dir, 'out.tsv')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: timeoutMs,
  });
  return readFileSync(join(dir, 'out.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
}

/** Per pattern: the matches only Sluice found and those only Flink found (multisets). */
export function compare(patterns: readonly PatternSpec[], sluice: readonly string[], flink: readonly string[]): Array<{ pattern: number; onlySluice: string[]; onlyFlink: string[] }> {
  const count = (xs: readonly string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const out: Array<{ pattern: number; onlySluice: string[]; onlyFlink: string[] }> = [];
  patterns.forEach((_, p) => {
    const s = count(sluice.filter((l) => l.startsWith(`${p}\t`)));
    const f = count(flink.filter((l) => l.startsWith(`${p}\t`)));
    const onlySluice: string[] = [];
    const onlyFlink: string[] = [];
    for (const [k, n] of s) for (let j = f.get(k) ?? 0; j < n; j++) onlySluice.push(k);
    for (const [k, n] of f) for (let j = s.get(k) ?? 0; j < n; j++) onlyFlink.push(k);
    if (onlySluice.length + onlyFlink.length > 0) out.push({ pattern: p, onlySluice, onlyFlink });
  });
  return out;
}
