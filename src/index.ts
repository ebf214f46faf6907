/**
 * Sluice: a stateful stream-processing engine for TypeScript.
 *
 * The layers of `src/`, from the top; a folder imports only folders below its line
 * (`test/architecture/layers.test.ts` holds the code to this map):
 * - `cli/` (the `sluice` command) and `testing/` (imported as `sluice/testing`: the harness
 *   with a manual clock, connector test contexts, and the shared connector and state-backend
 *   suites, which need vitest).
 * - `nexmark/`: the Nexmark generator and queries (the benchmark's workload).
 * - `launch/`: {@link Job}: starts a plan and wires the runtime's supervisor to checkpoint
 *   storage, logs, metrics, the job monitor and the REST server; loads job files; the entry
 *   of a parallel run's worker threads.
 * - `cluster/`: cluster mode, a job run by several processes with Apache Kafka as the
 *   backbone: the plan cut into sub-topologies at keyed exchanges, internal repartition,
 *   changelog and meta topics, the repartition exchange with watermark markers
 *   (`cluster/index.ts` opens with the design and what is built so far).
 * - `server/`: the REST API, `/metrics` and the dashboard of a running job (node:http).
 * - `api/`: the typed builders: {@link JobBuilder}, {@link DataStream}, {@link KeyedStream},
 *   windowed streams, joins. Building a job only makes a logical plan; nothing runs there.
 * - `window/`: assigners, triggers, evictors, aggregates and the window and join operators,
 *   on the runtime's operator, keyed-state and timer API.
 * - `cep/`: complex event processing on Flink CEP's model: the typed {@link Pattern} API,
 *   its compiler to an automaton, the automaton's runtime and skip strategies, and the keyed
 *   CEP operator (wired by `keyedStream.pattern(p)`, see {@link PatternStream}).
 * - `runtime/`: tasks, operators, bounded channels with backpressure, the watermark valve,
 *   timers, dead letters, one attempt of a job and the supervisor that restarts it;
 *   `runtime/index.ts` opens with its module map and the names of where records go.
 * - `observe/`: metrics (plain counters the runtime adds to per batch, read by Prometheus
 *   collectors at scrape time), JSON logs, sampled tracing, the job monitor.
 * - `plan/`: the logical graph of steps, its grouping into chains (steps that run in one task),
 *   and the physical graph of their subtasks and the channels between them.
 * - `checkpoint/`: the checkpoint coordinator, storage and the savepoint format.
 * - `core/`: the contracts of user functions (process functions, contexts, collectors),
 *   output tags and step options. It sits above `state/` because functions declare state
 *   with state descriptors.
 * - `state/` (keyed state with TTL, key groups, backends) and `connectors/` (the Source and
 *   Sink contracts and the built-in sources and sinks).
 * - `formats/`: codecs between records and bytes (JSON, CSV, Avro, Protobuf, MessagePack).
 * - `privacy/`: masking, tokens and per-subject encryption of personal fields, and
 *   crypto-shredding (its PostgreSQL and Redis stores are in `connectors/`).
 * - `net/`: TLS for every client and server (certificates and keys from PEM, files or
 *   secrets; TLS failures as clear errors), below the connectors and formats that use it.
 * - `resilience/`: retry policies, circuit breakers and bulkheads per external dependency
 *   (on cockatiel), shared by a job's async steps and lookups.
 * - `time/`: durations, the injectable clock, watermark strategies.
 * - `errors/`: the one error class and its catalog of codes.
 *
 * @module
 */
export { Job, type JobOptions, type StartOptions, type StartedJob } from './launch/job.js';
export type { ClusterOptions } from './cluster/cluster-options.js';
export { clusterStatus, type ClusterStatus, type ClusterGroupState, type ClusterMemberStatus, type ClusterPartitionStatus, type ClusterTask, type ClusterTopicStatus } from './cluster/status.js';
export type { InternalTopicKind } from './cluster/cluster-topics.js';
export { JobBuilder, type JobBuildOptions, type SourceOptions } from './api/job-builder.js';
export type { JobControl, JobMonitor, JobStatus, JobException, StuckStep } from './observe/job-monitor.js';
export type { LogLevel, LogOptions } from './observe/job-log.js';
export type { MetricsSnapshot, StepSnapshot } from './observe/job-metrics.js';
export type { DependencySnapshot } from './observe/dependency-snapshot.js';
export type { ServerOptions, JobServer } from './server/server.js';
export type { AuthOptions } from './server/auth/access-control.js';
export type { JwtOptions } from './server/auth/jwt.js';
export type { Policy, PolicyRule, Match as PolicyMatch, Scalar } from './server/auth/policy.js';
export type { Role, Action } from './server/auth/roles.js';
export type { StaticTokenEntry } from './server/auth/static-tokens.js';
export { AuditLog, type AuditEntry, type AuditOptions } from './server/audit-log.js';
export * from './privacy/index.js';
export { DataStream, type KeyField } from './api/data-stream.js';
export { KeyedStream } from './api/keyed-stream.js';
export { WindowedStream, type WindowAggregateOptions } from './api/windowed-stream.js';
export { rollup, type Rollup, type RollupOptions, type RollupRow } from './api/rollup.js';
export * from './api/joins/index.js';
export { ConnectedStreams, ConnectedKeyedStreams } from './api/connected-streams.js';
export { BroadcastStream, BroadcastConnectedStream, KeyedBroadcastConnectedStream } from './api/broadcast-stream.js';
export { OutputTag } from './core/output-tag.js';
export type { LoadShedding, ShedPolicy } from './core/load-shedding.js';
export { resolveSecret, describeSecret, isSecretRef, type Secret, type SecretRef } from './errors/secret.js';
export type { TlsOptions, ServerTlsOptions, PemSource } from './net/tls.js';
export type { StepOptions, StatefulStepOptions } from './core/step-options.js';
export type { AsyncContext, AsyncMapFunction, AsyncProcessFunction, AsyncStepOptions } from './core/async-function.js';
export * from './resilience/index.js';
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
export * from './cep/index.js';
export { PatternStream } from './api/pattern-stream.js';
export { DynamicPatternStream } from './api/dynamic-pattern-stream.js';
