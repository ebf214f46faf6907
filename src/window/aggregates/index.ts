/**
 * The built-in aggregate functions of windows and running aggregates. Each is a factory
 * returning an `AggregateFunction` with `merge`, so it works in session windows and
 * sliding-window panes; merging is associative and, for all but the sketches (HyperLogLog,
 * t-digest), exact.
 *
 * Exact: `count`, `sum`, `min`, `max`, `avg`, `first`, `last`, `distinctCount`.
 * Approximate, in bounded memory: `approxDistinctCount` (HyperLogLog), `percentiles` (t-digest).
 *
 * A numeric aggregate reads its number from a `field`: a property name (`sum('amount')`),
 * a function (`sum((o: Order) => o.price * o.qty)`), or nothing, when the input is the number.
 *
 * @module
 */
export { count } from './count.js';
export { sum, type SumAccumulator } from './sum.js';
export { min, type ExtremeAccumulator } from './min.js';
export { max } from './max.js';
export { avg, type AvgAccumulator } from './avg.js';
export { first, type PickAccumulator } from './first.js';
export { last } from './last.js';
export { distinctCount, type DistinctCountAccumulator } from './distinct-count.js';
export { approxDistinctCount, type ApproxDistinctCountOptions } from './approx-distinct-count.js';
export { percentiles, type PercentilesOptions } from './percentiles.js';
export { canonicalString } from './canonical.js';
export type { ExactSum } from './exact-sum.js';
export type { Field, NumericKeys } from './field.js';
export type { TDigest } from './t-digest.js';
