/**
 * HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007): a distinct-count sketch of
 * `m = 2^precision` one-byte registers, standard error about `1.04 / sqrt(m)` (1.6% at
 * the default precision 12, in 4 KiB).
 *
 * The hash is 64 bits of MurmurHash3 x86_128 over the value's canonical string
 * (`canonical.ts`). Its first `precision` bits pick a register; the register keeps the
 * largest rank (leading zeros + 1) of the remaining `64 - precision` bits. The estimate
 * is the raw harmonic-mean estimate with the paper's small-range correction (linear
 * counting while it is at most 2.5m and some register is still 0). With a 64-bit hash no
 * large-range correction is needed. Accuracy is pinned in `approx-distinct-count.test.ts`.
 *
 * The sketch is the bare `Uint8Array` of registers: merging is the register-wise maximum,
 * which is exact, associative and commutative, and the precision is `log2(length)`.
 * To serialise, store the bytes (`Buffer.from(registers).toString('base64')` or
 * `Array.from(registers)`); structured clone copies it as is.
 */
import { SluiceError } from '../../errors/index.js';
import { canonicalString } from './canonical.js';
import { murmur3x86_128 } from './murmur3.js';

export const MIN_PRECISION = 4;
export const MAX_PRECISION = 16;
export const DEFAULT_PRECISION = 12;

/**
 * Throws INVALID_ARGUMENT unless `precision` is an integer in `[4, 16]`.
 *
 * @example
 * checkPrecision(12); // ok
 */
export function checkPrecision(precision: number): void {
  if (!Number.isInteger(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
    throw new SluiceError('INVALID_ARGUMENT', `approxDistinctCount(): precision must be an integer in [${MIN_PRECISION}, ${MAX_PRECISION}], got ${String(precision)}`, {
      hint: 'Precision p uses 2^p bytes and gives a standard error of 1.04 / sqrt(2^p): 12 (4 KiB, 1.6%) is the default, 14 (16 KiB, 0.8%) is common.',
    });
  }
}

/** An empty sketch of `2^precision` registers. @example hllCreate(12).length === 4096 */
export function hllCreate(precision: number): Uint8Array {
  return new Uint8Array(1 << precision);
}

/** The precision of a sketch, from its size. @example hllPrecision(hllCreate(12)) === 12 */
export function hllPrecision(registers: Uint8Array): number {
  return 31 - Math.clz32(registers.length);
}

/**
 * Adds a value (any value with a canonical string) to the sketch in place.
 *
 * @example
 * const r = hllCreate(12); hllAdd(r, 'user-1'); hllAdd(r, 'user-1');
 * Math.round(hllEstimate(r)) === 1
 */
export function hllAdd(registers: Uint8Array, value: unknown): void {
  const [h1, h2] = murmur3x86_128(canonicalString(value));
  hllAddHash(registers, h1, h2);
}

/**
 * Adds a 64-bit hash, given as its high and low 32-bit words, to the sketch in place.
 *
 * @example
 * hllAddHash(hllCreate(4), 0x0fffffff, 0) // register 0 gets rank 1
 */
export function hllAddHash(registers: Uint8Array, hi: number, lo: number): void {
  const p = hllPrecision(registers);
  const index = hi >>> (32 - p);
  // The 64 - p bits after the index: the top 32 - p in `hi`, then the 32 of `lo`.
  const top = (hi << p) >>> 0;
  const rank = top !== 0 ? Math.clz32(top) + 1 : 32 - p + Math.clz32(lo) + 1;
  if (rank > registers[index]!) registers[index] = rank;
}

/**
 * The register-wise maximum of two sketches of the same precision, as a new sketch:
 * the sketch of the union of their inputs. Throws INVALID_ARGUMENT for different precisions.
 *
 * @example
 * hllMerge(hllCreate(12), hllCreate(12)).length === 4096
 */
export function hllMerge(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) {
    throw new SluiceError('INVALID_ARGUMENT', `approxDistinctCount(): cannot merge sketches of precision ${hllPrecision(a)} and ${hllPrecision(b)}`, {
      hint: 'Merge only accumulators of the same approxDistinctCount aggregate (same precision).',
    });
  }
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! > b[i]! ? a[i]! : b[i]!;
  return out;
}

/**
 * The estimated number of distinct values added.
 *
 * @example
 * hllEstimate(hllCreate(12)) === 0
 */
export function hllEstimate(registers: Uint8Array): number {
  const m = registers.length;
  let harmonic = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    const r = registers[i]!;
    if (r === 0) zeros++;
    harmonic += 2 ** -r;
  }
  const raw = (alpha(m) * m * m) / harmonic;
  if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
  return raw;
}

function alpha(m: number): number {
  if (m === 16) return 0.673;
  if (m === 32) return 0.697;
  if (m === 64) return 0.709;
  return 0.7213 / (1 + 1.079 / m);
}
