/**
 * The built-in evictors. A custom evictor is any object implementing {@link Evictor}.
 *
 * @example
 * // Drop records flagged as test traffic before the window function sees them.
 * const noTests: Evictor<{ test?: boolean }> = {
 *   kind: 'no-tests',
 *   evictBefore: (records) => records.filter((r) => !r.value.test),
 * };
 * keyed.window(tumbling('1m')).evictor(noTests)
 *
 * @module
 */
export { countEvictor, type EvictorOptions } from './count.js';
export { timeEvictor } from './time.js';
