/**
 * An exact running sum of doubles: Shewchuk's non-overlapping partials, as Python's
 * `math.fsum`. The sum is kept without rounding error, so its correctly rounded value does
 * not depend on the order of the additions or on how the inputs were split and merged.
 * That is what makes `sum` and `avg` merge exactly (see `test/window/aggregates/exact-aggregates.test.ts`).
 *
 * Non-finite inputs are summed apart (`Infinity + -Infinity` is NaN, as usual). A sum whose
 * exact partial results leave the double range (beyond ±1.8e308) gives ±Infinity.
 */

/** The state of an exact sum: plain numbers, cheap to copy and to checkpoint. */
export interface ExactSum {
  /** Non-overlapping partials, increasing in magnitude; their exact sum is the sum. Usually 1–3 long. */
  partials: number[];
  /** The sum of the non-finite inputs (and of overflowed partials); 0 when there were none. */
  nonFinite: number;
}

/** An empty exact sum. @example exactSumValue(emptyExactSum()) === 0 */
export function emptyExactSum(): ExactSum {
  return { partials: [], nonFinite: 0 };
}

/**
 * Adds `x` into `sum` in place.
 *
 * @example
 * const s = emptyExactSum(); addExact(s, 0.1); addExact(s, 0.2); addExact(s, -0.3);
 * exactSumValue(s) === 2.7755575615628914e-17 // the exact sum of the three doubles, rounded once
 */
export function addExact(sum: ExactSum, x: number): void {
  if (!Number.isFinite(x)) {
    sum.nonFinite += x;
    return;
  }
  const partials = sum.partials;
  if (partials.length === 1) {
    // Fast path: integers whose sum is a safe integer add exactly in a double.
    const p = partials[0]!;
    const s = p + x;
    if (Number.isSafeInteger(s) && Number.isInteger(x) && Number.isInteger(p)) {
      partials[0] = s;
      return;
    }
  }
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    if (!Number.isFinite(hi)) {
      // Overflow: the exact sum is out of double range in practice; keep it as an infinity.
      sum.nonFinite += hi;
      partials.length = 0;
      return;
    }
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  partials.push(x);
}

/** Adds all of `b` into `a` in place (`b` is not changed). @example addExactSum(a, b) */
export function addExactSum(a: ExactSum, b: ExactSum): void {
  a.nonFinite += b.nonFinite;
  for (const p of b.partials) addExact(a, p);
}

/** A copy that shares nothing with `sum`. @example copyExactSum(s).partials !== s.partials */
export function copyExactSum(sum: ExactSum): ExactSum {
  return { partials: sum.partials.slice(), nonFinite: sum.nonFinite };
}

/**
 * The sum rounded once to the nearest double (ties to even), as `math.fsum`.
 *
 * @example
 * const s = emptyExactSum(); addExact(s, 1e100); addExact(s, 1); addExact(s, -1e100);
 * exactSumValue(s) === 1
 */
export function exactSumValue(sum: ExactSum): number {
  if (sum.nonFinite !== 0) return sum.nonFinite;
  const partials = sum.partials;
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Round half to even: if the rest has the sign of `lo`, the tie breaks away from `hi`.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}
