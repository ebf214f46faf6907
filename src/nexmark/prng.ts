/**
 * The generator's pseudo-random numbers: splitmix32, seeded per event from (seed, event
 * number), so that event n is computable from n alone (the stream is splittable: any
 * range of event numbers can be generated independently, in any order).
 *
 * The Java port in `bench/peers/flink/src/main/java/sluice/nexmark/Prng.java` is
 * bit-for-bit the same: 32-bit wrapping arithmetic (Math.imul here, int overflow there),
 * and doubles derived from the same 32-bit values. `test/nexmark/generator.test.ts` pins
 * values that the Java side must reproduce.
 *
 * The state lives in one Int32Array slot, not in a closure variable: writing a number
 * outside V8's small-integer range to a context slot allocates, writing it to a typed
 * array does not. Generation is synchronous, so one module-wide state is safe.
 */
const STATE = new Int32Array(1);

/** MurmurHash3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Positions the stream at the start of event `n`'s numbers (n: a non-negative safe integer). */
export function seedEvent(seed: number, n: number): void {
  const lo = n >>> 0;
  const hi = Math.floor(n / 4294967296) | 0;
  let h = fmix32((seed | 0) ^ Math.imul(lo, 0x9e3779b1));
  h = fmix32(h ^ Math.imul((hi + 0x7f4a7c15) | 0, 0x85ebca77));
  STATE[0] = h;
}

/** Positions the stream at an arbitrary 32-bit state (used for the fixed word tables). */
export function seedRaw(state: number): void {
  STATE[0] = state | 0;
}

// Every draw below advances the state and mixes it in place, returning a small integer:
// a uint32 or a double returned from a call that V8 does not inline is boxed (allocated),
// a small integer is not. So each distribution does its own step instead of calling a
// shared `nextUint32()`.

/** The next 32-bit value, unsigned (tables and tests; the hot path uses the draws below). */
export function nextUint32(): number {
  const s = (STATE[0]! + 0x9e3779b9) | 0;
  STATE[0] = s;
  let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Uniform in [0, 1): the next 32-bit value / 2^32. */
export function nextDouble(): number {
  return nextUint32() / 4294967296;
}

/** Uniform integer in [0, bound) for 0 < bound <= 2^31: floor(x / 2^32 · bound) for the next 32-bit x. */
export function nextInt(bound: number): number {
  const s = (STATE[0]! + 0x9e3779b9) | 0;
  STATE[0] = s;
  let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return Math.floor((((z ^ (z >>> 16)) >>> 0) / 4294967296) * bound);
}

/**
 * 10^(6 · i / 2^16) and 10^(6 · j / 2^32) for 16-bit i, j: with u = x / 2^32 for a 32-bit x,
 * 10^(6u) = HIGH[x >>> 16] · LOW[x & 0xffff]. Math.pow costs ~100 ns here, the two table
 * reads a few; the product is within an ulp or two of pow's result, so round(· 100) differs
 * from round(pow(…) · 100) only for a value within ~1e-14 of a half cent (none in 20M
 * draws: `generator.test.ts` compares both).
 */
const PRICE_HIGH = new Float64Array(65536);
const PRICE_LOW = new Float64Array(65536);
for (let i = 0; i < 65536; i++) {
  PRICE_HIGH[i] = Math.pow(10, (6 * i) / 65536);
  PRICE_LOW[i] = Math.pow(10, (6 * i) / 4294967296);
}

/** round(10^(u · 6) · 100) for the next uniform u: a price in cents, 1 to 100,000,000, log-uniform. */
export function nextPrice(): number {
  const s = (STATE[0]! + 0x9e3779b9) | 0;
  STATE[0] = s;
  let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return Math.round(PRICE_HIGH[z >>> 16]! * PRICE_LOW[z & 0xffff]! * 100);
}

/** The price the generator gives for the 32-bit draw x (tests). */
export function priceOf(x: number): number {
  return Math.round(PRICE_HIGH[x >>> 16]! * PRICE_LOW[x & 0xffff]! * 100);
}

/** The spec's formula with Math.pow, for the 32-bit draw x (tests). */
export function priceByPow(x: number): number {
  return Math.round(Math.pow(10, (x / 4294967296) * 6) * 100);
}
