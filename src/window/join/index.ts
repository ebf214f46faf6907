/**
 * The operator side of two-stream joins: the interval join as a keyed co-process function
 * (both sides buffered in map state, cleaned by event-time timers), and the temporal join's
 * keyed two-input operator (`temporal-join-operator.ts`). The builders (window join,
 * co-group, interval join, temporal join) are in `api/joins/`.
 *
 * @module
 */
export {
  IntervalJoinLateCounts,
  type IntervalJoinContext,
  type IntervalJoinFunction,
} from './interval-join-function.js';
