/**
 * Sluice: a stateful stream-processing engine for TypeScript.
 *
 * The layers, from the top (imports only point down):
 * - `api/`: the typed builders: {@link Job}, {@link DataStream}, {@link KeyedStream}, functions and output tags.
 *   Building a job only makes a logical plan; nothing runs there.
 * - `plan/`: the logical graph of steps, its grouping into chains (steps that run in one task),
 *   and the physical graph of their subtasks and the channels between them.
 * - `runtime/`: tasks, operators, bounded channels with backpressure, the watermark valve, timers,
 *   dead letters, and what runs the physical graph; `runtime/index.ts` opens with its module map
 *   and the names of where records go.
 * - `state/`: keyed state (value, list, map, reducing, aggregating) with TTL, key groups, backends.
 * - `time/`: durations, the injectable clock, watermark strategies.
 * - `connectors/`: the Source and Sink contracts and the built-in sources and sinks.
 * - `errors/`: the one error class and its catalog of codes.
 * - `observe/`: metrics (plain counters the runtime adds to per batch, read by Prometheus
 *   collectors at scrape time), JSON logs, sampled tracing, the job monitor. Its
 *   `step-metrics.ts` imports nothing, so the runtime may write into it.
 * - `server/`: the REST API, `/metrics` and the dashboard of a running job (node:http).
 * - `cli/`: the `sluice` command.
 * - `testing/` (imported as `sluice/testing`): the harness with a manual clock.
 */
export { Job, type JobOptions, type SourceOptions, type StartedJob } from './api/job.js';
export type { JobMonitor, JobStatus, JobException } from './observe/job-monitor.js';
export type { MetricsSnapshot, StepSnapshot } from './observe/job-metrics.js';
export type { ServerOptions, JobServer } from './server/server.js';
export { DataStream, type KeyField } from './api/data-stream.js';
export { KeyedStream } from './api/keyed-stream.js';
export { WindowedStream, type WindowAggregateOptions } from './api/windowed-stream.js';
export * from './api/joins/index.js';
export { ConnectedStreams, ConnectedKeyedStreams } from './api/connected-streams.js';
export { BroadcastStream, BroadcastConnectedStream, KeyedBroadcastConnectedStream } from './api/broadcast-stream.js';
export { OutputTag } from './core/output-tag.js';
export type { StepOptions, StatefulStepOptions } from './core/step-options.js';
export type {
  Collector,
  OpenContext,
  TimerService,
  ProcessContext,
  KeyedProcessContext,
  OnTimerContext,
  ProcessFunction,
  KeyedProcessFunction,
  CoProcessFunction,
  KeyedCoProcessFunction,
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  BroadcastReadOnlyContext,
  BroadcastContext,
  KeyedBroadcastReadOnlyContext,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
} from './core/functions.js';
export type { DeadLetter } from './runtime/dead-letter-queue.js';
export type { JobResult } from './runtime/attempt.js';
export type { RunningJob } from './runtime/supervisor.js';
export type { RestartPolicy } from './runtime/restart-policy.js';
export * from './checkpoint/index.js';
export { MAX_WATERMARK, MIN_WATERMARK } from './runtime/batch.js';
export * from './state/index.js';
export * from './time/index.js';
export * from './errors/index.js';
export * from './connectors/index.js';
export * from './window/index.js';
