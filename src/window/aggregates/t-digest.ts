/**
 * A merging t-digest (Dunning & Ertl, "Computing extremely accurate quantiles using
 * t-digests", 2019): a quantile sketch of at most about `compression` centroids, most
 * precise at the tails.
 *
 * New values go to a buffer; when it holds `5 * compression` values it is sorted and
 * merged with the centroids in one pass. A centroid may absorb its right neighbour while
 * the q range it covers stays within one unit of the k1 scale function
 * `k(q) = compression / (2π) · asin(2q − 1)`. Two digests merge the same way, from the
 * union of their centroids and buffers. Fewer than about `2 · compression / π` values (63 at
 * the default 100) never merge: the digest then holds every value and its quantiles are
 * exact. Accuracy is pinned in `percentiles.test.ts`.
 *
 * Quantiles interpolate linearly between centroid centres, a centroid of weight `w` that
 * follows `L` values standing at rank `L + (w − 1) / 2` and the min and max at ranks 0 and
 * `n − 1`: with every centroid a single value this is exactly the usual linear
 * interpolation between order statistics (Hyndman–Fan type 7, numpy's default).
 *
 * The digest is a plain object of numbers and arrays of numbers, so it serialises to JSON
 * as is (`JSON.parse(JSON.stringify(d))` gives an equal digest).
 */

/** The state of a t-digest. */
export interface TDigest {
  /** The compression parameter δ: more is more precise and bigger. */
  readonly compression: number;
  /** Centroid means, ascending. */
  means: number[];
  /** Centroid weights (counts of values), aligned with `means`. */
  weights: number[];
  /** Values not yet merged into the centroids, in order of arrival. */
  buffer: number[];
  /** Number of values added (centroid weights plus the buffer). */
  count: number;
  /** Smallest and largest value added; 0 while `count` is 0. */
  min: number;
  max: number;
}

/** An empty digest. @example tdCreate(100).count === 0 */
export function tdCreate(compression: number): TDigest {
  return { compression, means: [], weights: [], buffer: [], count: 0, min: 0, max: 0 };
}

const bufferLimit = (compression: number): number => Math.max(50, Math.ceil(5 * compression));

/**
 * Adds a value in place. Non-finite values (NaN, ±Infinity) are skipped: they have no
 * place in a mean.
 *
 * @example
 * const d = tdCreate(100); tdAdd(d, 3); tdAdd(d, 1);
 * tdQuantile(d, 0.5) === 2
 */
export function tdAdd(digest: TDigest, value: number): void {
  if (!Number.isFinite(value)) return;
  if (digest.count === 0) {
    digest.min = value;
    digest.max = value;
  } else {
    if (value < digest.min) digest.min = value;
    if (value > digest.max) digest.max = value;
  }
  digest.count++;
  digest.buffer.push(value);
  if (digest.buffer.length >= bufferLimit(digest.compression)) {
    const [means, weights] = compress(digest.compression, digest.count, digest.means, digest.weights, sortedBuffer(digest.buffer));
    digest.means = means;
    digest.weights = weights;
    digest.buffer = [];
  }
}

/**
 * The digest of the union of the inputs of `a` and `b`, as a new digest with an empty
 * buffer; `a` and `b` are not changed. It has a's compression.
 *
 * @example
 * const a = tdCreate(100); tdAdd(a, 1);
 * const b = tdCreate(100); tdAdd(b, 3);
 * tdQuantile(tdMerge(a, b), 0.5) === 2
 */
export function tdMerge(a: TDigest, b: TDigest): TDigest {
  const count = a.count + b.count;
  const [cm, cw] = mergeSorted(a.means, a.weights, b.means, b.weights);
  const [means, weights] = compress(a.compression, count, cm, cw, sortedBuffer(a.buffer.concat(b.buffer)));
  const min = a.count === 0 ? b.min : b.count === 0 ? a.min : Math.min(a.min, b.min);
  const max = a.count === 0 ? b.max : b.count === 0 ? a.max : Math.max(a.max, b.max);
  return { compression: a.compression, means, weights, buffer: [], count, min, max };
}

/**
 * Estimates of the quantiles `qs` (each in [0, 1]), aligned with `qs`; NaN for each when
 * the digest is empty. The digest is not changed (its buffer is merged into a copy).
 *
 * @example
 * const d = tdCreate(100); for (const v of [1, 2, 3, 4]) tdAdd(d, v);
 * tdQuantiles(d, [0, 0.5, 1]) // [1, 2.5, 4]
 */
export function tdQuantiles(digest: TDigest, qs: readonly number[]): number[] {
  const n = digest.count;
  if (n === 0) return qs.map(() => Number.NaN);
  const [means, weights] =
    digest.buffer.length === 0 ? [digest.means, digest.weights] : compress(digest.compression, n, digest.means, digest.weights, sortedBuffer(digest.buffer));
  // Points (rank, value): min at 0, each centroid at its centre rank, max at n - 1.
  const ranks = [0];
  const values = [digest.min];
  let before = 0;
  for (let i = 0; i < means.length; i++) {
    const rank = before + (weights[i]! - 1) / 2;
    // A single value at either end is the min or the max only when centroids do not
    // overlap; the recorded min and max are exact, so they take those ranks.
    if (rank > 0 && rank < n - 1) {
      ranks.push(rank);
      values.push(means[i]!);
    }
    before += weights[i]!;
  }
  ranks.push(n - 1);
  values.push(digest.max);
  return qs.map((q) => interpolate(ranks, values, q * (n - 1)));
}

/** One quantile; see {@link tdQuantiles}. @example tdQuantile(tdCreate(100), 0.5) // NaN */
export function tdQuantile(digest: TDigest, q: number): number {
  return tdQuantiles(digest, [q])[0]!;
}

/** The value at rank `h` on the piecewise-linear curve through the points (ranks ascending). */
function interpolate(ranks: number[], values: number[], h: number): number {
  // The last point whose rank is <= h (binary search).
  let lo = 0;
  let hi = ranks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ranks[mid]! <= h) lo = mid;
    else hi = mid - 1;
  }
  if (lo === ranks.length - 1) return values[lo]!;
  const r0 = ranks[lo]!;
  const r1 = ranks[lo + 1]!;
  const v0 = values[lo]!;
  const v1 = values[lo + 1]!;
  if (r1 === r0 || h === r0) return v0;
  // Clamp: rounding must not leave [v0, v1] (the curve is monotone).
  const v = v0 + ((h - r0) / (r1 - r0)) * (v1 - v0);
  return Math.min(Math.max(v, v0), v1);
}

function sortedBuffer(buffer: number[]): Float64Array {
  return Float64Array.from(buffer).sort();
}

/** Merges two ascending centroid lists into one. */
function mergeSorted(m1: number[], w1: number[], m2: number[], w2: number[]): [number[], number[]] {
  const means: number[] = [];
  const weights: number[] = [];
  let i = 0;
  let j = 0;
  while (i < m1.length || j < m2.length) {
    if (j >= m2.length || (i < m1.length && m1[i]! <= m2[j]!)) {
      means.push(m1[i]!);
      weights.push(w1[i++]!);
    } else {
      means.push(m2[j]!);
      weights.push(w2[j++]!);
    }
  }
  return [means, weights];
}

/**
 * One merging pass over the centroids (ascending) and the sorted unit-weight values, for a
 * digest of `total` values: each centroid absorbs its neighbours while its q range stays
 * within one unit of k1 from where it starts.
 */
function compress(compression: number, total: number, means: number[], weights: number[], values: Float64Array): [number[], number[]] {
  const outMeans: number[] = [];
  const outWeights: number[] = [];
  const normalizer = compression / (2 * Math.PI);
  const kMax = compression / 4;
  /** The largest cumulative weight a centroid starting at cumulative weight `w0` may reach. */
  const limitFrom = (w0: number): number => {
    const k = normalizer * Math.asin(2 * Math.min(1, w0 / total) - 1) + 1;
    return k >= kMax ? Number.POSITIVE_INFINITY : (total * (Math.sin(k / normalizer) + 1)) / 2;
  };
  let i = 0;
  let j = 0;
  let curMean = 0;
  let curWeight = 0;
  let before = 0;
  let limit = limitFrom(0);
  while (i < means.length || j < values.length) {
    let mean: number;
    let weight: number;
    if (j >= values.length || (i < means.length && means[i]! <= values[j]!)) {
      mean = means[i]!;
      weight = weights[i++]!;
    } else {
      mean = values[j++]!;
      weight = 1;
    }
    if (curWeight === 0) {
      curMean = mean;
      curWeight = weight;
    } else if (before + curWeight + weight <= limit) {
      curWeight += weight;
      curMean += ((mean - curMean) * weight) / curWeight;
    } else {
      outMeans.push(curMean);
      outWeights.push(curWeight);
      before += curWeight;
      limit = limitFrom(before);
      curMean = mean;
      curWeight = weight;
    }
  }
  if (curWeight > 0) {
    outMeans.push(curMean);
    outWeights.push(curWeight);
  }
  return [outMeans, outWeights];
}
