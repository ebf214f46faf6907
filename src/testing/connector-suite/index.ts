/**
 * Shared connector suites: {@link describeSource} and {@link describeSink} run the same
 * contract tests (replay from positions, delivery through a failing job, bad-record
 * policies, two-phase commit) against every connector, over the real services.
 *
 * @module
 */
export { describeSource, type PreparedSource, type SourceCase } from './describe-source.js';
export { describeSink, type PreparedSink, type SinkCase } from './describe-sink.js';
export { memoryTwoPhaseSink } from './memory-2pc-sink.js';
