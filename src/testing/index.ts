/**
 * The Sluice test kit (`sluice/testing`).
 *
 * - The harness: drive a single step or a whole job with a manual clock, push records,
 *   watermarks and processing time, read outputs, side outputs, timers and keyed state.
 * - Connector contexts: a {@link index.SourceContext | SourceContext} ({@link testSourceContext})
 *   and a {@link index.SinkContext | SinkContext} ({@link testSinkContext}) without the
 *   runtime, to test a source's reader or a sink's writer by hand.
 * - Shared suites for plugin authors: every connector and every keyed-state backend of
 *   Sluice runs the same suite ({@link describeSource}, {@link describeSink},
 *   {@link describeStateBackend}); run it against yours.
 *
 * The suites register vitest tests, so they need `vitest` (an optional peer dependency of
 * sluice: install it to use them). The harness and the contexts do not.
 *
 * @module
 */
export { OperatorHarness, type OperatorHarnessOptions } from './operator-harness.js';
export { JobHarness, HarnessInput } from './job-harness.js';
export { TestInput } from './test-input.js';
export { TestOutput, type OutputRecord } from './test-output.js';
export { ManualClock } from '../time/clock.js';

// Contexts for testing a source's reader or a sink's writer without the runtime, and
// helpers that read a source to its end and drive a manual clock while a promise settles.
// (A line comment: a doc comment here would replace each export's own in the API reference.)
export {
  testSourceContext,
  testSinkContext,
  readAll,
  drain,
  settle,
  type TestSourceContext,
  type TestSourceContextOptions,
  type BadRecordCall,
  type ReadResult,
} from './connector-context.js';

/**
 * The source and sink contracts as shared vitest suites: call one from a test file of
 * your connector, with a case that prepares the medium (see {@link SourceCase} and
 * {@link SinkCase}).
 *
 * @example
 * describeSource<{ i: number }>('my queue', {
 *   guarantee: 'exactly-once',
 *   make: (i) => ({ i }),
 *   prepare: async (values, bad) => {
 *     const queue = await freshQueue(values, bad); // bad.get(i): a raw message to place before values[i]
 *     return { source: (opts) => myQueueSource(queue, opts), cleanup: () => queue.delete() };
 *   },
 * });
 * describeSink<{ id: number }>('my table', {
 *   kind: 'idempotent',
 *   make: (i) => ({ id: i }),
 *   prepare: async () => {
 *     const table = await freshTable();
 *     return { sink: myTableSink(table), read: () => table.rows() };
 *   },
 * });
 */
export * from './connector-suite/index.js';

/**
 * The keyed-state backend contract as a shared vitest suite: every keyed state kind, TTL,
 * namespaces, snapshots and restore, key-group ranges.
 *
 * @example
 * describeStateBackend('my backend', (clock) => new MyStateBackend({ clock }));
 */
export { describeStateBackend } from './backend-suite.js';

/**
 * A TCP proxy between Sluice and a real service that adds latency, blackholes traffic,
 * resets or closes connections and refuses new ones, on demand or on a schedule.
 *
 * @example
 * const proxy = await FaultProxy.start({ target: { port: 5432 } });
 * proxy.schedule([{ after: '500ms', fault: 'reset' }, { after: '2s', fault: 'heal' }]);
 */
export { FaultProxy, type Fault, type FaultStep, type FaultProxyOptions, type FaultProxyStats } from './fault-proxy.js';
