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
 * Two ways to read the same stream:
 * - `seedEvent` / `seedRaw` then `nextInt`, one value at a time (the fixed tables, tests);
 * - `drawEvent(seed, n, count)` then `drawInt` / `drawPrice` (the generator's hot path):
 *   the event's first `count` values are made up front in one loop, and each draw is a
 *   read, small enough that V8 inlines every one of them into the event's function (with
 *   one-at-a-time draws, its inlining budget ran out after three of a bid's nine).
 *
 * The state lives in typed arrays, not in closure variables: writing a number outside
 * V8's small-integer range to a context slot allocates, writing it to a typed array does
 * not. Generation is synchronous, so one module-wide state is safe.
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

/** The state before event `n`'s first number (n: a non-negative safe integer). */
function eventState(seed: number, n: number): number {
  const lo = n >>> 0;
  const hi = Math.floor(n / 4294967296) | 0;
  const h = fmix32((seed | 0) ^ Math.imul(lo, 0x9e3779b1));
  return fmix32(h ^ Math.imul((hi + 0x7f4a7c15) | 0, 0x85ebca77));
}

/** Positions the stream at the start of event `n`'s numbers (n: a non-negative safe integer). */
export function seedEvent(seed: number, n: number): void {
  STATE[0] = eventState(seed, n);
}

/** Positions the stream at an arbitrary 32-bit state (used for the fixed word tables). */
export function seedRaw(state: number): void {
  STATE[0] = state | 0;
}

/** The next 32-bit value, unsigned. */
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
  return Math.floor((nextUint32() / 4294967296) * bound);
}

/** round(10^(u · 6) · 100) for the next uniform u: a price in cents, 1 to 100,000,000, log-uniform. */
export function nextPrice(): number {
  return priceOf(nextUint32());
}

/** The most numbers an event draws (a person's: name, 2 email words, 4 card groups, city, state, 2 for extra). */
export const MAX_DRAWS = 11;
/** The current event's numbers, in stream order, and how many of them are used. */
const DRAWS = new Uint32Array(MAX_DRAWS);
let drawn = 0;
let used = 0;

/**
 * Makes the first `count` numbers of event `n`'s stream (count <= MAX_DRAWS), the same
 * values as `seedEvent(seed, n)` and `count` calls of `nextUint32()`; `drawInt` and
 * `drawPrice` then use them in order. The caller draws at least as many as the event can
 * use (`drawsUsed()` tells; `generator.test.ts` checks every kind of event).
 */
export function drawEvent(seed: number, n: number, count: number): void {
  let s = eventState(seed, n);
  for (let i = 0; i < count; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    DRAWS[i] = z ^ (z >>> 16);
  }
  drawn = count;
  used = 0;
}

/** `nextInt(bound)` over the numbers made by `drawEvent`. */
export function drawInt(bound: number): number {
  return Math.floor((DRAWS[used++]! / 4294967296) * bound);
}

/** `nextPrice()` over the numbers made by `drawEvent`. */
export function drawPrice(): number {
  return priceOf(DRAWS[used++]!);
}

/** How many of the numbers made by the last `drawEvent` were used, and how many it made (tests). */
export function drawsUsed(): { used: number; drawn: number } {
  return { used, drawn };
}

/**
 * Prices. The standard formula is round(10^(6u) · 100) with u = x / 2^32; the generator
 * has always computed 10^(6u) as HIGH[x >>> 16] · LOW[x & 0xffff], two tables of 2^16
 * Math.pow values (pow itself costs ~100 ns), and that product is what every event ever
 * made carries (within an ulp or two of pow, and equal to round(pow(…) · 100) for every
 * draw tried: `generator.test.ts`).
 *
 * Those tables take 1 MB, and a random read of each missed the cache on most draws. So
 * the price is now read from three small tables (x split 11 + 11 + 10 bits, 40 KB, the
 * factor 100 folded into the first): P1 · P2 · P3 is within 6e-8 of HIGH · LOW · 100 for
 * every one of the 2^32 draws (4 ulps at most, checked exhaustively), so the two round
 * alike unless the value is within that of a half cent (8 of the 2^32 draws would round
 * the other way). Values within 1e-6 of a half cent (about 2 draws in a million) are
 * recomputed exactly as before, by the same Math.pow calls that filled HIGH and LOW.
 * Checked over all 2^32 draws (`SLUICE_EXHAUSTIVE=1`, `generator.test.ts`): the prices
 * are those of the two big tables, every one.
 */
const P1 = new Float64Array(2048);
const P2 = new Float64Array(2048);
const P3 = new Float64Array(1024);
for (let i = 0; i < 2048; i++) {
  P1[i] = Math.pow(10, (6 * i) / 2048) * 100;
  P2[i] = Math.pow(10, (6 * i) / 4194304);
}
for (let i = 0; i < 1024; i++) P3[i] = Math.pow(10, (6 * i) / 4294967296);
/** How near a half cent the three-table value must be to be recomputed (16 times the largest difference seen). */
const NEAR_HALF_CENT = 1e-6;

/** The price the generator gives for the 32-bit draw x. */
export function priceOf(x: number): number {
  const v = P1[x >>> 21]! * P2[(x >>> 10) & 0x7ff]! * P3[x & 0x3ff]!;
  const r = Math.round(v);
  const d = r - v; // in (-0.5, 0.5]
  return d > 0.5 - NEAR_HALF_CENT || d < NEAR_HALF_CENT - 0.5 ? priceByTables(x) : r;
}

/** The price as the generator has always computed it: HIGH[x >>> 16] · LOW[x & 0xffff] · 100, each table entry a Math.pow. */
export function priceByTables(x: number): number {
  return Math.round(Math.pow(10, (6 * (x >>> 16)) / 65536) * Math.pow(10, (6 * (x & 0xffff)) / 4294967296) * 100);
}

/** The spec's formula with Math.pow, for the 32-bit draw x (tests). */
export function priceByPow(x: number): number {
  return Math.round(Math.pow(10, (x / 4294967296) * 6) * 100);
}
