/**
 * The built-in window assigners. Count windows (`countWindow`, `slidingCountWindow`) are
 * global windows with count triggers and evictors, built by the API. A custom assigner is
 * any object implementing {@link WindowAssigner}.
 *
 * @module
 */
export { tumbling, tumblingProcessingTime, signedMillis, type TumblingWindows } from './tumbling.js';
export { sliding, slidingProcessingTime, type SlidingWindows } from './sliding.js';
export {
  session,
  sessionProcessingTime,
  dynamicSession,
  dynamicSessionProcessingTime,
  mergeTimeWindows,
  type SessionWindows,
  type FixedSessionWindows,
} from './session.js';
export { globalWindows } from './global.js';
