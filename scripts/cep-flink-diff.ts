/**
 * Sluice CEP against Apache Flink CEP on seeded random streams × seeded random patterns
 * (test/cep/flink-differential.ts): prints, per pattern that differs, the matches only one
 * side found. `npx tsx scripts/cep-flink-diff.ts [seed] [patterns] [events] [keys]`.
 * Builds the Flink peer the first time (Maven).
 */
import { compare, flinkMatches, sampleEvents, samplePatterns, sluiceMatches, toLine } from '../test/cep/flink-differential.js';

const [seed = 1, count = 60, n = 3000, keys = 20] = process.argv.slice(2).map(Number);
const patterns = samplePatterns(seed, count);
const events = sampleEvents(seed, n, keys);
const sluice = sluiceMatches(patterns, events);
const flink = flinkMatches(patterns, events, 300_000);
const diffs = compare(patterns, sluice, flink);
/** Why a pattern may differ, from bench/peers/flink-cep/DIFFERENCES.md; undefined: an unexplained difference. */
const known = (i: number): string | undefined => {
  const p = patterns[i]!;
  if (p.stages.some((s) => s.flags.includes('g'))) return 'greedy (open: Sluice\'s greedy differs from Flink\'s)';
  const last = p.stages[p.stages.length - 1]!;
  // Several pending matches with one first event, completed by time at once: which one the skip strategy keeps is a tie, and
  // under skip-past-last-event the later matches of that key follow from the choice.
  if (last.contiguity === 'notFollowedBy' && p.skip !== 'no-skip') return 'tie: matches a trailing notFollowedBy completes at once (documented)';
  const d = diffs.find((x) => x.pattern === i)!;
  if (p.skip !== 'no-skip' && p.skip !== 'skip-to-next' && sameStarts(d.onlySluice, flink, i) && sameStarts(d.onlyFlink, sluice, i)) {
    return 'tie: same key and first event on both sides, the skip strategy kept another of the matches completed together (documented)';
  }
  return undefined;
};
/** Every match in `only` (found by one side only) has the key and first event of a match the other side found. */
function sameStarts(only: readonly string[], other: readonly string[], pattern: number): boolean {
  const start = (line: string) => {
    const [, key, stages] = line.split('\t');
    return `${key}@${Math.min(...stages!.split(' ').flatMap((s) => s.split('=')[1]!.split(',').map(Number)))}`;
  };
  const starts = new Set(other.filter((l) => l.startsWith(`${pattern}\t`)).map(start));
  return only.every((l) => starts.has(start(l)));
}

console.log(`seed ${seed}: ${patterns.length} patterns × ${events.length} events over ${keys} keys; Sluice ${sluice.length} matches, Flink ${flink.length}; ${diffs.length} patterns differ`);
for (const d of diffs) {
  console.log(`\npattern ${d.pattern}: ${toLine(patterns[d.pattern]!)} — ${known(d.pattern) ?? 'UNEXPLAINED'}`);
  console.log(`  only Sluice (${d.onlySluice.length}): ${d.onlySluice.slice(0, 4).join(' | ')}`);
  console.log(`  only Flink  (${d.onlyFlink.length}): ${d.onlyFlink.slice(0, 4).join(' | ')}`);
}
const unexplained = diffs.filter((d) => known(d.pattern) === undefined);
console.log(`\n${unexplained.length} unexplained differences`);
process.exitCode = unexplained.length === 0 ? 0 : 1;
