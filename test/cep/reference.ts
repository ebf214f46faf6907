/**
 * A naive batch reference for CEP, written apart from the automaton: over one key's events
 * sorted by timestamp, it enumerates every match a pattern of the generated family has, by
 * the rules of Flink CEP's documentation stated event by event, then applies the skip
 * strategy greedily in the order of first events.
 *
 * The family: stages of one event, optional, times(2), times(1, 2) or oneOrMore, related by
 * next / followedBy / followedByAny, with consecutive / relaxed / allowCombinations inside;
 * a notNext or notFollowedBy between two single stages; a trailing notFollowedBy (with
 * within) after a single stage or a loop; within.
 *
 * The rules, for the event that a stage takes after the event at position p:
 * - strict: the event at p + 1, if it matches; relaxed: the first matching one after p;
 *   non-deterministic relaxed: any matching one after p (each a match of its own);
 * - a stage's first event relates to p by the stage's contiguity, its later events by its
 *   inner contiguity; a skipped optional stage lets the next stage relate to p;
 * - every taken event is less than `within` after the first one;
 * - notNext N: the event at p + 1 does not meet N; notFollowedBy N: no event in (p, q) does,
 *   q being the next stage's event, and when q itself does, only a match that ends at q
 *   survives (Flink keeps a match reached on the event that kills its partial match);
 * - a trailing notFollowedBy N: no event meeting N after the last stage's first event and
 *   before the first event's time + within; the match completes then. After a loop the
 *   partial match reaches that wait only on the next event, so one must come in time.
 */
export type Contig = 'strict' | 'relaxed' | 'any';
export type Kind = 'one' | 'optional' | 'times2' | 'times12' | 'oneOrMore';
export type Skip = 'no-skip' | 'skip-to-next' | 'skip-past-last-event' | 'skip-to-first' | 'skip-to-last';

export interface StageSpec {
  readonly name: string;
  readonly letters: readonly string[];
  readonly contig: Contig;
  readonly kind: Kind;
  readonly inner: Contig;
}

export interface PatternSpec {
  readonly stages: readonly StageSpec[];
  /** A negative stage after stage `after` (and before the next one). */
  readonly middleNot?: { readonly after: number; readonly kind: 'notNext' | 'notFollowedBy'; readonly letters: readonly string[] } | undefined;
  /** A trailing notFollowedBy (needs within). */
  readonly endNot?: readonly string[] | undefined;
  readonly within?: number | undefined;
  readonly skip: Skip;
  readonly skipName: string;
}

/** One key's event, in timestamp order: `pos` is its place in that order. */
export interface RefEvent {
  readonly id: string;
  readonly letter: string;
  readonly ts: number;
}

interface Candidate {
  readonly taken: ReadonlyArray<{ pos: number; name: string }>;
  readonly completion: number;
}

const bounds: Record<Kind, [number, number]> = { one: [1, 1], optional: [0, 1], times2: [2, 2], times12: [1, 2], oneOrMore: [1, Infinity] };

/** Every match of `spec` over `events` (sorted by time), as `name:id` lists, after the skip strategy. */
export function referenceMatches(spec: PatternSpec, events: readonly RefEvent[]): string[] {
  const found: Candidate[] = [];
  const meets = (pos: number, letters: readonly string[]) => pos < events.length && letters.includes(events[pos]!.letter);
  const inTime = (taken: Candidate['taken'], pos: number) => spec.within === undefined || taken.length === 0 || events[pos]!.ts - events[taken[0]!.pos]!.ts < spec.within;

  const nextPositions = (contig: Contig, after: number, letters: readonly string[]): number[] => {
    if (contig === 'strict') return meets(after + 1, letters) ? [after + 1] : [];
    const out: number[] = [];
    for (let q = after + 1; q < events.length; q++) {
      if (!meets(q, letters)) continue;
      out.push(q);
      if (contig === 'relaxed') break;
    }
    return out;
  };

  const go = (s: number, count: number, last: number, taken: Candidate['taken'], stageFirst: number, endsAt?: number): void => {
    const stage = spec.stages[s]!;
    const [min, max] = bounds[stage.kind];
    if (count < max) {
      const contig = count === 0 ? stage.contig : stage.inner;
      const options = s === 0 && count === 0 ? nextPositions('any', -1, stage.letters) : nextPositions(contig, last, stage.letters);
      for (const q of options) {
        if (!inTime(taken, q)) continue;
        const check = count === 0 ? middleNot(s, last, q) : 'ok';
        if (check === 'broken') continue;
        go(s, count + 1, q, [...taken, { pos: q, name: stage.name }], count === 0 ? q : stageFirst, check === 'ends-here' ? q : endsAt);
      }
    }
    if (count < min) return;
    if (s + 1 < spec.stages.length) {
      if (spec.middleNot?.after === s && spec.middleNot.kind === 'notNext' && (last + 1 >= events.length || meets(last + 1, spec.middleNot.letters))) return;
      go(s + 1, 0, last, taken, -1, endsAt);
      return;
    }
    if (spec.endNot === undefined) {
      if (endsAt === undefined || endsAt === last) found.push({ taken, completion: last });
      return;
    }
    const deadline = events[taken[0]!.pos]!.ts + spec.within!;
    let end = events.findIndex((e) => e.ts >= deadline);
    if (end < 0) end = events.length;
    if (stage.kind === 'oneOrMore' && last + 1 >= end) return; // no event came to move the loop's partial match on to the wait
    for (let r = stageFirst + 1; r < end; r++) if (meets(r, spec.endNot)) return;
    found.push({ taken, completion: end - 0.5 });
  };

  /** A middle notFollowedBy between p and q, the next stage's first event: may the match go on, or only end at q? */
  const middleNot = (s: number, p: number, q: number): 'ok' | 'broken' | 'ends-here' => {
    const n = spec.middleNot;
    if (n === undefined || n.kind !== 'notFollowedBy' || n.after !== s - 1) return 'ok';
    for (let r = p + 1; r < q; r++) if (meets(r, n.letters)) return 'broken';
    return meets(q, n.letters) ? 'ends-here' : 'ok';
  };

  go(0, 0, -1, [], -1);
  return applySkip(spec, found).map((c) => c.taken.map((t) => `${t.name}:${events[t.pos]!.id}`).join(' '));
}

/** The skip strategy, greedily: candidates in the order of first event, completion, then events; each emitted one prunes the later ones it overlaps. */
function applySkip(spec: PatternSpec, found: Candidate[]): Candidate[] {
  const order = (a: Candidate, b: Candidate) => {
    if (a.taken[0]!.pos !== b.taken[0]!.pos) return a.taken[0]!.pos - b.taken[0]!.pos;
    if (a.completion !== b.completion) return a.completion - b.completion;
    for (let i = 0; i < Math.min(a.taken.length, b.taken.length); i++) if (a.taken[i]!.pos !== b.taken[i]!.pos) return a.taken[i]!.pos - b.taken[i]!.pos;
    return a.taken.length - b.taken.length;
  };
  const sorted = [...found].sort(order);
  if (spec.skip === 'no-skip') return sorted;
  const out: Candidate[] = [];
  const cuts: Array<(start: number) => boolean> = [];
  for (const c of sorted) {
    const start = c.taken[0]!.pos;
    if (cuts.some((cut) => cut(start))) continue;
    out.push(c);
    const positions = c.taken.map((t) => t.pos);
    const named = c.taken.filter((t) => t.name === spec.skipName).map((t) => t.pos);
    if (spec.skip === 'skip-to-next') cuts.push((x) => x <= positions[0]!);
    else if (spec.skip === 'skip-past-last-event') cuts.push((x) => x <= positions[positions.length - 1]!);
    else if (named.length > 0) {
      const at = spec.skip === 'skip-to-first' ? named[0]! : named[named.length - 1]!;
      cuts.push((x) => x < at);
    }
  }
  return out;
}
