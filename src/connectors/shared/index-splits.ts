/**
 * The positions of a source that deals its records by index to parallel readers (a
 * collection, a generator), kept as splits that can move between readers, as in Flink's
 * split reassignment: so a checkpoint taken at one parallelism restores at another.
 *
 * A split is the arithmetic progression of indices `first + k * stride` (k = 0, 1, …)
 * below the source's count, of which the first `next` have been handed out. At
 * parallelism p, reader i starts with the one split (i, p). A checkpoint keeps each
 * reader's splits; restored at parallelism q, the unfinished splits are rebased to their
 * next index, the largest halved (a progression of stride s splits into two of stride 2s)
 * until there are at least q of them, and dealt round robin (`redistributeSplits`). A
 * reader with several splits hands out their records in index order, so records come
 * out of each reader in the order of their indices, as at parallelism 1.
 *
 * @example
 * const s = new IndexSplits([{ first: 1, stride: 2, next: 0 }], 6);
 * [s.take(), s.take(), s.take(), s.take()]; // [1, 3, 5, -1]
 */

/** Indices `first + k * stride` for k >= `next`, below the source's count. */
export interface IndexSplit {
  readonly first: number;
  readonly stride: number;
  next: number;
}

/** A reader's checkpointed position. */
export interface IndexSplitsPosition {
  readonly splits: readonly IndexSplit[];
}

function isSplitsPosition(p: unknown): p is IndexSplitsPosition {
  return typeof p === 'object' && p !== null && Array.isArray((p as IndexSplitsPosition).splits);
}

/**
 * The splits reader `reader` starts with: those of its restored position, or its own
 * split of the indices. Positions from before splits (`{ index }`, the count this reader
 * had handed out) name the reader's own split.
 */
export function initialSplits(restored: unknown, reader: { readonly index: number; readonly parallelism: number }): IndexSplit[] {
  if (isSplitsPosition(restored)) return restored.splits.map((s) => ({ first: s.first, stride: s.stride, next: s.next }));
  const next = (restored as { index?: number } | undefined)?.index ?? 0;
  return [{ first: reader.index, stride: reader.parallelism, next }];
}

/** Records left in a split of a source of `count` records (Infinity without a count). */
function remainingOf(s: IndexSplit, count: number): number {
  return Math.max(0, Math.ceil((count - (s.first + s.next * s.stride)) / s.stride));
}

/**
 * The splits of reader `reader` after a restore at another parallelism, from the
 * positions of every reader of the checkpoint (undefined for one that had none: it had
 * handed out nothing). Every reader computes the same dealing from the same positions.
 */
export function redistributeSplits(
  positions: readonly unknown[],
  reader: { readonly index: number; readonly parallelism: number },
  count: number | undefined,
): IndexSplitsPosition {
  const total = count ?? Number.POSITIVE_INFINITY;
  let live: IndexSplit[] = [];
  positions.forEach((p, j) => {
    for (const s of initialSplits(p, { index: j, parallelism: positions.length })) {
      if (remainingOf(s, total) > 0) live.push({ first: s.first + s.next * s.stride, stride: s.stride, next: 0 });
    }
  });
  // Halve the largest split (ties: the smaller stride, then the lower index) until every reader has one.
  const larger = (a: IndexSplit, b: IndexSplit) => remainingOf(b, total) - remainingOf(a, total) || a.stride - b.stride || a.first - b.first;
  while (live.length > 0 && live.length < reader.parallelism) {
    live.sort(larger);
    const big = live[0]!;
    if (remainingOf(big, total) < 2) break;
    live = [{ first: big.first, stride: 2 * big.stride, next: 0 }, { first: big.first + big.stride, stride: 2 * big.stride, next: 0 }, ...live.slice(1)];
  }
  live.sort((a, b) => a.first - b.first || a.stride - b.stride);
  return { splits: live.filter((_, j) => j % reader.parallelism === reader.index) };
}

/** A reader's splits, handing out their indices in increasing order. */
export class IndexSplits {
  private readonly total: number;
  constructor(
    readonly splits: IndexSplit[],
    count: number | undefined,
  ) {
    this.total = count ?? Number.POSITIVE_INFINITY;
  }

  /** The next index, or -1 when every split is done. */
  take(): number {
    const ss = this.splits;
    if (ss.length === 1) {
      const s = ss[0]!;
      const i = s.first + s.next * s.stride;
      if (i >= this.total) return -1;
      s.next++;
      return i;
    }
    let best: IndexSplit | undefined;
    let at = this.total;
    for (const s of ss) {
      const i = s.first + s.next * s.stride;
      if (i < at) {
        at = i;
        best = s;
      }
    }
    if (best === undefined) return -1;
    best.next++;
    return at;
  }

  /** Records left to hand out (Infinity without a count). */
  get remaining(): number {
    let n = 0;
    for (const s of this.splits) n += remainingOf(s, this.total);
    return n;
  }

  /** Records handed out from these splits. */
  get taken(): number {
    let n = 0;
    for (const s of this.splits) n += s.next;
    return n;
  }

  /** This reader's share of all records: the sum of 1 / stride (1 at parallelism 1). */
  get share(): number {
    let x = 0;
    for (const s of this.splits) x += 1 / s.stride;
    return x;
  }

  position(): IndexSplitsPosition {
    return { splits: this.splits.map((s) => ({ first: s.first, stride: s.stride, next: s.next })) };
  }
}
