/**
 * The runtime: runs a job's physical graph (`plan/physical-graph.ts`) as tasks.
 *
 * How a job runs, top down:
 * - `supervisor.ts`: the whole job ({@link RunningJob}, public): restarts failed attempts
 *   from their latest checkpoint.
 * - `executor.ts`: one {@link Attempt} in this thread (`attempt.ts` is its handle);
 *   `parallel/` runs one across worker threads, subtask i of every chain in slot i.
 * - `deployment.ts`: builds the tasks a {@link Placement} puts in this thread
 *   (`placement.ts` also opens the channels with an end here).
 * - `task.ts`: a task runs one subtask of a chain on its own loop; `source-task.ts` reads a
 *   source, `stream-task.ts` takes its input channels through an `InputGate`.
 * - `operator-chain.ts`: a task's operators and their outputs, wired (Flink's OperatorChain).
 * - `operator.ts` and `operators/`: the operators, over `OperatorRuntime`; keyed ones keep a
 *   `KeyedScope`, which is their `InternalTimerService`.
 * - `watchdog/`: tasks stamp each synchronous call into their steps in a shared buffer; a
 *   watchdog thread finds a step that has not returned (`STEP_STUCK`).
 *
 * Where records go, one name each:
 * - `Collector`: what a user function calls `collect()` on; a `TimestampedCollector`
 *   gathers into batches stamped with the current record's or timer's time.
 * - `Output`: what an operator writes batches and control events to; `OperatorOutputs`
 *   holds an operator's main output and side outputs by tag.
 * - Kinds of output: `ChainedOutput` hands records to the next operator of the chain (a
 *   direct call); `ChannelOutput` writes to one channel, gathering small batches;
 *   a partitioner (`HashPartitioner`, `RebalancePartitioner`, from `partitionerFor`) picks
 *   among the `ChannelOutput`s of an exchange, one per consuming subtask; a
 *   `BroadcastingOutput` sends to several outputs; a `MeteredOutput` counts what passes.
 * - `Channel`: a bounded queue between two tasks, with a `ChannelSender` end (pushed to by a
 *   `ChannelOutput`) and a `ChannelReceiver` end (polled by an `InputGate`): a
 *   `LocalChannel` in one thread, a thread channel (`ThreadChannelSender` /
 *   `ThreadChannelReceiver`) across threads.
 */
export { supervise, type RunningJob, type SuperviseOptions } from './supervisor.js';
export { execute, type ExecuteOptions } from './executor.js';
export type { Attempt, JobResult } from './attempt.js';
export type { RuntimeConfig } from './config.js';
export type { Placement } from './placement.js';
export { Operator, type OperatorRuntime, type SubtaskInfo } from './operator.js';
export type { Output, OperatorOutputs } from './output.js';
