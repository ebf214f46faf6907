/**
 * The Sluice test harness (`sluice/testing`): drive a single step or a whole job with a
 * manual clock, push records, watermarks and processing time, read outputs, side outputs,
 * timers and keyed state.
 */
export { OperatorHarness, type OperatorHarnessOptions } from './operator-harness.js';
export { JobHarness, HarnessInput } from './job-harness.js';
export { TestInput } from './test-input.js';
export { TestOutput, type OutputRecord } from './test-output.js';
export { ManualClock } from '../time/clock.js';
