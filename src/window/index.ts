/**
 * Windows: assigners (which windows a record is in), triggers (when a window emits),
 * evictors (which records it keeps), window functions and built-in aggregates. Built on
 * the operator, keyed-state and timer API only. The builders that use them (`WindowedStream`,
 * the joins) are in `api/`: start at `keyedStream.window(assigner)`.
 *
 * @module
 */
export * from './window.js';
export type { WindowAssigner, AssignerContext } from './assigner.js';
export { type Trigger, type TriggerContext, type TriggerResult, fires, purges } from './trigger.js';
export type { Evictor, EvictorContext, TimestampedValue } from './evictor.js';
export type { FiringTiming, WindowResult, WindowContext, ProcessWindowFunction } from './window-function.js';
export * from './assigners/index.js';
export * from './triggers/index.js';
export * from './evictors/index.js';
export * from './aggregates/index.js';
export { namedAggregates, type NamedAggregates, type NamedResults } from './rollup/named-aggregates.js';
export * from './join/index.js';
