/**
 * Naive, obviously correct batch answers for the aggregate tests: exact sums through
 * BigInt, deep equality of values.
 */

/** `x · 2^1074` as a BigInt: every finite double is an integer multiple of 2^-1074. */
function scaled(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const mantissa = bits & ((1n << 52n) - 1n);
  const magnitude = exponent === 0 ? mantissa : (mantissa | (1n << 52n)) << BigInt(exponent - 1);
  return bits >> 63n ? -magnitude : magnitude;
}

/** The exact sum of finite doubles, rounded once to the nearest double (ties to even). */
export function exactSumReference(values: readonly number[]): number {
  const total = values.reduce((acc, x) => acc + scaled(x), 0n);
  if (total === 0n) return values.length > 0 && values.every((x) => Object.is(x, -0)) ? -0 : 0;
  const negative = total < 0n;
  const magnitude = negative ? -total : total;
  const bits = magnitude.toString(2).length;
  let result: number;
  if (bits <= 53) {
    result = Number(magnitude) * 2 ** -537 * 2 ** -537; // exact: a multiple of 2^-1074 below 2^-1021
  } else {
    const shift = bits - 53;
    let q = magnitude >> BigInt(shift);
    const rest = magnitude - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
    result = Number(q) * 2 ** (shift - 1074);
  }
  return negative ? -result : result;
}

/** Equality by content: numbers by value with NaN equal to NaN and -0 to 0; objects by own defined properties. */
export function deepEqualValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (a === null || b === null || typeof a !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqualValue(x, bb[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined).sort();
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqualValue(ra[k], rb[k]));
}

/** The number of values not deep-equal to an earlier one. */
export function distinctReference(values: readonly unknown[]): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!values.slice(0, i).some((v) => deepEqualValue(v, values[i]))) n++;
  return n;
}

/** Linear interpolation between order statistics (Hyndman–Fan type 7, numpy's default). */
export function quantileReference(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = q * (sorted.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
