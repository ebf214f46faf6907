/**
 * Joins of two streams, built on the public stream API: window join and co-group (tag,
 * union, keyBy, window), and the interval join (connect and a keyed co-process function
 * that buffers both sides in map state and cleans them with event-time timers).
 */
export { coGroup, CoGroupedStreams, CoGroupWindowed, type CoGroupFunction, type KeyedPair, type Tagged } from './co-group.js';
export { join, JoinedStreams, JoinWindowed } from './window-join.js';
export {
  IntervalJoin,
  IntervalJoined,
  IntervalJoinLateCounts,
  type IntervalJoinContext,
  type IntervalJoinFunction,
  type IntervalJoinOptions,
} from './interval-join.js';
