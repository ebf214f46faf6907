/**
 * Builders of two-stream joins on the public stream API: window join and co-group (tag,
 * union, keyBy, window), the interval join (connect and the keyed co-process function
 * of `window/join/`), the lookup join (an async step) and the temporal join (the keyed
 * two-input operator of `window/join/`).
 *
 * @module
 */
export { coGroup, CoGroupedStreams, CoGroupWindowed, type CoGroupFunction, type KeyedPair, type Tagged } from './co-group.js';
export { join, JoinedStreams, JoinWindowed } from './window-join.js';
export { IntervalJoin, IntervalJoined, type IntervalJoinOptions } from './interval-join.js';
export { lookupJoin, type LookupJoinOptions, type LookupMiss, type LookupJoinInfo, type LookupUnavailablePolicy } from './lookup-join.js';
export { temporalJoin, type TemporalJoinOptions, type TemporalJoinBaseOptions } from './temporal-join.js';
