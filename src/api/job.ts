import type { Sink } from '../connectors/sink.js';
import type { Source } from '../connectors/source.js';
import { randomUUID } from 'node:crypto';
import { isMainThread, workerData } from 'node:worker_threads';
import { SluiceError } from '../errors/index.js';
import type { JobGraph, StepNode, StreamEdge } from '../plan/graph.js';
import { JobGraph as Graph } from '../plan/graph.js';
import { DeadLetterQueue } from '../runtime/dead-letter-queue.js';
import type { JobResult } from '../runtime/attempt.js';
import type { RuntimeConfig } from '../runtime/config.js';
import { restartDecider, type RestartPolicy } from '../runtime/restart-policy.js';
import { supervise, type RunningJob } from '../runtime/supervisor.js';
import { checkpointConfig, type CheckpointOptions } from '../checkpoint/config.js';
import { FileCheckpointStorage } from '../checkpoint/file-storage.js';
import type { CheckpointData, CheckpointStorage } from '../checkpoint/types.js';
import type { DeliveryGuarantee } from '../connectors/sink.js';
import type { Operator } from '../runtime/operator.js';
import { SinkOperator } from '../runtime/operators/sink.js';
import { TimestampsAndWatermarksOperator } from '../runtime/operators/timestamps-watermarks.js';
import { DEFAULT_MAX_PARALLELISM } from '../state/key-groups.js';
import { MemoryStateBackend } from '../state/memory-backend.js';
import type { KeyedStateBackend } from '../state/types.js';
import { SystemClock, type Clock } from '../time/clock.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WatermarkStrategy } from '../time/watermark-strategy.js';
import { JobLog, type LogLevel, type LogOptions } from '../observe/job-log.js';
import { JobMetrics } from '../observe/job-metrics.js';
import { JobMonitor } from '../observe/job-monitor.js';
import { planJson } from '../observe/plan-json.js';
import { startServer, type JobServer, type ServerOptions } from '../server/server.js';
import { DataStream } from './data-stream.js';
import { explainJob } from './explain.js';
import type { DeadLetter } from '../runtime/dead-letter-queue.js';
import type { StepOptions } from '../core/step-options.js';

/** The script worker threads of a parallel run start with (it loads TypeScript, then `parallel-worker.ts`). */
const WORKER_SCRIPT = new URL('./parallel-worker.mjs', import.meta.url);

/** Settings of a job. Every one has a default that suits a local run. */
export interface JobOptions {
  /** Shown in explain(), logs and metrics. Default 'job'. */
  name?: string;
  /** The most records in one batch between steps. Default 1024. */
  batchSize?: number;
  /** How long a partly filled batch may wait for more records before it is sent. Default 10 ms. */
  flushInterval?: Duration;
  /** Batches a channel between two tasks holds before its producer waits. Default 8. */
  channelCapacity?: number;
  /**
   * How many subtasks each step runs as, where the step does not say (`{ parallelism }`
   * in its options). Sources and sinks that cannot run in parallel run as one. Default 1;
   * `sluice run --parallelism N` and `start({ parallelism })` override it.
   */
  parallelism?: number;
  /**
   * The module that defines this job, for runs with parallelism above 1: each worker
   * thread imports it to build its own instance of the job (functions cannot cross
   * threads), so its default export must be this job, or a function returning it, built
   * the same way every time, and it must not start the job itself. `sluice run` sets it
   * to the job file. Usually `import.meta.url`.
   *
   * @example
   * // counts.ts
   * const job = new Job({ name: 'counts', parallelism: 2, module: import.meta.url });
   * export default job;
   */
  module?: string;
  /** Number of key groups (the unit of rescaling): the most subtasks a keyed step can have. Default 128. */
  maxParallelism?: number;
  /** What a step does when its function throws: fail the job (default) or send the record to `job.deadLetters()`. */
  onError?: 'fail' | 'dead-letter';
  /** The processing-time clock. Default: the system clock; tests pass a ManualClock. */
  clock?: Clock;
  /**
   * Creates each stateful step's keyed state backend (anew for every attempt after a
   * failure). Default: in memory. An on-disk backend needs a directory of its own per
   * call: a restore adds to what a reopened directory still holds. With checkpoints, its
   * state goes into them as incremental checkpoint files under the checkpoint directory's
   * `shared/` (see `KeyedStateBackend.checkpointTo`).
   */
  stateBackend?: (step: { uid: string; clock: Clock; maxParallelism: number }) => KeyedStateBackend;
  /** Periodic checkpoints (off by default). With them, `sluice run` resumes a crashed job by itself. */
  checkpoints?: CheckpointOptions;
  /**
   * What results promise after failures: 'exactly-once' (checkpoints, replayable sources
   * and sinks that support it, else the job is refused), 'at-least-once' (the default with
   * checkpoints), or 'none' (the default without).
   */
  delivery?: DeliveryGuarantee;
  /** What to do when the job fails while running. Default: with checkpoints, 3 restarts 1 s apart; without, none. */
  restart?: RestartPolicy;
  /**
   * Count metrics: records in and out, latency, busy / backpressured / idle time, errors,
   * watermarks (served at `/metrics` and in the dashboard). Default true; `false` saves
   * the little they cost (see `bench/metrics.ts`). Checkpoint and state gauges stay.
   */
  metrics?: boolean;
  /**
   * Serve the REST API, `/metrics` and the dashboard. Default: on at 127.0.0.1:8081 under
   * `sluice run` (the next free port if taken), off in embedded runs such as tests.
   */
  server?: ServerOptions | boolean;
  /** Structured JSON logs on stderr. Default level 'info' under `sluice run`, 'silent' in embedded runs. */
  log?: LogOptions;
  /** Sampled tracing (off by default): one source batch in `sampleEvery` is followed through the tasks. */
  tracing?: { sampleEvery: number };
}

/** A started job: the supervisor's handle plus what operates it (metrics, logs, server). */
export interface StartedJob extends RunningJob {
  /** Status, metrics, checkpoints, exceptions and logs of the run. */
  readonly monitor: JobMonitor;
  /** The REST server once it listens; undefined when off or no port was free. */
  readonly server: Promise<JobServer | undefined>;
}

/** How to start a run. */
export interface StartOptions {
  /** Start from this savepoint (a directory written by `savepoint()` or `sluice savepoint`). */
  fromSavepoint?: string;
  /** Allow a savepoint with state for steps this job no longer has (that state is dropped). */
  allowNonRestoredState?: boolean;
  /** Overrides the job's default parallelism for this run (a savepoint of another parallelism rescales). */
  parallelism?: number;
  /** The arguments the job's `module` default export (a function) is called with in worker threads. */
  moduleArgs?: readonly string[];
  /** Told when the job fails and restarts. */
  onRestart?: (error: unknown, restart: number, delayMs: number) => void;
  /** Defaults for the job's `server` and `log` options where it sets none (`sluice run` turns both on). */
  observe?: { server?: ServerOptions | boolean; logLevel?: LogLevel; logDestination?: { write(line: string): void } };
}

/** Options of a source step. */
export interface SourceOptions<T> {
  /** Required: a source's position goes into checkpoints under this id. */
  uid: string;
  /** How records get event timestamps and watermarks. Without it, timestamps are the source's own (if any) and no watermarks are generated. */
  watermarks?: WatermarkStrategy<T>;
  onError?: 'fail' | 'dead-letter';
  /** Readers to run, for a source that can run in parallel (`source.parallel`). Default: the job's parallelism. */
  parallelism?: number;
}

/** A step as the builders describe it to the job. */
export interface StepSpec {
  kind: string;
  options: StepOptions | undefined;
  stateful: boolean;
  inputs: StreamEdge[];
  description: string;
  createOperator: () => Operator<any, any>;
  sink?: Sink<any>;
}

/**
 * A dataflow job: sources, the steps between them, and sinks. Build it with the fluent
 * API, look at it with `explain()`, run it once with `run()` (or `start()` for a handle
 * that can cancel).
 *
 * @example
 * const job = new Job({ name: 'doubling' });
 * job.source(fromCollection([1, 2, 3]), { uid: 'numbers' }).map((n) => n * 2).print();
 * await job.run();
 */
export class Job {
  readonly name: string;
  readonly graph: JobGraph<Operator> = new Graph();
  private readonly options: JobOptions;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly channelCapacity: number;
  private readonly maxParallelism: number;
  private readonly uids = new Set<string>();
  private readonly counters = new Map<string, number>();
  private deadLetterQueue: DeadLetterQueue | undefined;
  private deadLetterStream: DataStream<DeadLetter> | undefined;
  private started = false;

  constructor(options: JobOptions = {}) {
    this.options = options;
    if (options.module !== undefined) this.module = { url: options.module, args: [] };
    this.name = options.name ?? 'job';
    this.batchSize = positiveInt(options.batchSize ?? 1024, 'batchSize');
    this.flushIntervalMs = toMillis(options.flushInterval ?? 10, 'flushInterval');
    this.channelCapacity = positiveInt(options.channelCapacity ?? 8, 'channelCapacity');
    this.maxParallelism = positiveInt(options.maxParallelism ?? DEFAULT_MAX_PARALLELISM, 'maxParallelism');
    if (options.onError !== undefined && options.onError !== 'fail' && options.onError !== 'dead-letter') {
      throw new SluiceError('INVALID_ARGUMENT', `onError must be 'fail' or 'dead-letter', got ${String(options.onError)}`);
    }
  }

  /** Adds a source. Its uid is required (its read position will be checkpointed under it). */
  source<T>(source: Source<T>, options: SourceOptions<T>): DataStream<T> {
    this.checkNotStarted();
    if (!source || typeof source.createReader !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'job.source() needs a Source (an object with kind, bounded and createReader)');
    }
    const uid = this.claimUid(options?.uid, 'source', true);
    const node = this.graph.add({
      uid,
      uidGiven: true,
      kind: 'source',
      stateful: true,
      inputs: [],
      description: `${source.kind}${source.describe ? `: ${source.describe()}` : ''}${source.bounded ? ' (bounded)' : ''}`,
      parallelism: options.parallelism,
      onError: options.onError,
      source,
    });
    const stream = new DataStream<T>(this, node);
    return options.watermarks ? stream.assignTimestampsAndWatermarks(options.watermarks) : stream;
  }

  /**
   * Records that steps could not handle, when the job (or a step) routes failures to
   * dead letters (`onError: 'dead-letter'`). Consume it (print it, write it to a file):
   * a job that dead-letters without a consumer of this stream is refused.
   */
  deadLetters(): DataStream<DeadLetter> {
    if (this.deadLetterStream) return this.deadLetterStream;
    this.checkNotStarted();
    this.deadLetterQueue = new DeadLetterQueue(this.batchSize * this.channelCapacity);
    const node = this.graph.add({
      uid: this.claimUid('dead-letters', 'dead-letters', true),
      uidGiven: true,
      kind: 'source',
      stateful: false,
      inputs: [],
      description: 'dead letters: records that steps could not handle',
      parallelism: 1,
      onError: 'fail',
      source: this.deadLetterQueue.source,
    });
    this.deadLetterStream = new DataStream<DeadLetter>(this, node);
    return this.deadLetterStream;
  }

  /** The plan as text: tasks, the steps chained in each, and the edges between them. Runs nothing. */
  explain(): string {
    this.validate();
    return explainJob(this.name, this.graph, {
      batchSize: this.batchSize,
      flushIntervalMs: this.flushIntervalMs,
      channelCapacity: this.channelCapacity,
      parallelism: this.options.parallelism,
      maxParallelism: this.maxParallelism,
    });
  }

  /** Starts the job and returns a handle: `done` settles at the end, `cancel()` stops it. */
  start(options: StartOptions = {}): StartedJob {
    if (!isMainThread && (workerData as { fingerprint?: unknown } | undefined)?.fingerprint !== undefined) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' was started by its module while a worker thread of a parallel run loaded it`, {
        hint: 'Export the job from a module that does not start it; start it from another module or with `sluice run`.',
      });
    }
    this.validate();
    this.checkNotStarted();
    this.started = true;
    const clock = this.options.clock ?? new SystemClock();
    const cp = this.options.checkpoints;
    const checkpoints = cp && {
      config: checkpointConfig(cp),
      storage: this.checkpointStorage()!,
    };
    const restart = restartDecider(this.options.restart ?? (cp ? { strategy: 'fixed-delay', attempts: 3, delay: '1s' } : { strategy: 'none' }));
    const savepointPath = options.fromSavepoint;
    const log = new JobLog(this.name, {
      level: this.options.log?.level ?? options.observe?.logLevel ?? 'silent',
      destination: this.options.log?.destination ?? options.observe?.logDestination,
    });
    const metrics = new JobMetrics(this.name, clock, {
      traceEvery: this.options.tracing?.sampleEvery,
      onSpan: (span) => log.logger.debug({ event: 'span', span }, span.name),
    });
    const counting = this.options.metrics !== false;
    let monitor: JobMonitor | undefined;
    const running = supervise(
      this.graph,
      this.runtimeConfig(clock, options.parallelism, counting ? metrics : undefined, options.moduleArgs),
      this.deadLetterQueue,
      {
        checkpoints,
        restart,
        onRestart: (error, n, delay) => {
          monitor?.restarted(error, n, delay);
          options.onRestart?.(error, n, delay);
        },
        onCheckpoint: (s) => monitor?.checkpoint(s),
        restore: savepointPath
          ? async () => this.checkSavepoint(await new FileCheckpointStorage(savepointPath).readPath(savepointPath), options)
          : undefined,
      },
    );
    monitor = new JobMonitor(this.name, planJson(this.graph), metrics, log, () => running, counting);
    metrics.stateBackends = () => running.stateBackends;
    metrics.checkpoints = () => running.checkpoints;
    monitor.started({ delivery: this.delivery, checkpoints: cp !== undefined, fromSavepoint: savepointPath });
    monitor.sampler.start();
    const serverOption = this.options.server ?? options.observe?.server ?? false;
    const server = serverOption === false ? Promise.resolve(undefined) : startServer(monitor, serverOption === true ? {} : serverOption, log.logger);
    const m = monitor;
    const done = running.done.then(
      (r) => {
        m.ended(r.status);
        return r;
      },
      (e: unknown) => {
        m.failed(e);
        throw e;
      },
    );
    void done.catch(() => {}).finally(() => server.then((s) => s?.close()));
    return {
      done,
      monitor,
      server,
      cancel: () => running.cancel(),
      savepoint: (path) => running.savepoint(path),
      stopWithSavepoint: (path) => running.stopWithSavepoint(path),
      get stateBackends() {
        return running.stateBackends;
      },
      get channels() {
        return running.channels;
      },
      get checkpoints() {
        return running.checkpoints;
      },
      get restarts() {
        return running.restarts;
      },
      get restoredFrom() {
        return running.restoredFrom;
      },
    };
  }

  /**
   * The settings the runtime runs this job with. Worker threads of a parallel run build
   * the same from their own instance of the job (see `parallel-worker.ts`).
   * @internal
   */
  runtimeConfig(clock: Clock, parallelism: number | undefined, metrics: JobMetrics | undefined, moduleArgs?: readonly string[], executionId?: string): RuntimeConfig {
    const makeBackend = this.options.stateBackend;
    const storage = this.checkpointStorage();
    return {
      sharedStateDir: storage?.sharedDir && ((subtask: string) => storage.sharedDir!(subtask)),
      jobName: this.name,
      executionId: executionId ?? randomUUID().slice(0, 12),
      batchSize: this.batchSize,
      flushIntervalMs: this.flushIntervalMs,
      channelCapacity: this.channelCapacity,
      maxPollWaitMs: 50,
      maxParallelism: this.maxParallelism,
      parallelism: positiveInt(parallelism ?? this.options.parallelism ?? 1, 'parallelism'),
      onError: this.options.onError ?? 'fail',
      clock,
      createStateBackend: (uid) =>
        makeBackend ? makeBackend({ uid, clock, maxParallelism: this.maxParallelism }) : new MemoryStateBackend({ clock, maxParallelism: this.maxParallelism }),
      exactlyOnce: this.delivery === 'exactly-once',
      metrics,
      workers: this.module === undefined ? undefined : { script: WORKER_SCRIPT, module: this.module.url, args: [...(moduleArgs ?? this.module.args)] },
    };
  }

  /** The checkpoint storage (one per job instance: worker threads make the same from their own), undefined without checkpoints. */
  private checkpointStorage(): CheckpointStorage | undefined {
    const cp = this.options.checkpoints;
    if (cp === undefined) return undefined;
    return (this.storage ??= cp.storage ?? new FileCheckpointStorage(cp.dir ?? `.sluice/checkpoints/${this.name}`));
  }
  private storage: CheckpointStorage | undefined;

  /**
   * Where the job was defined, for worker threads: `sluice run` calls it with the job
   * file and its arguments, unless the job names its `module` itself.
   * @internal
   */
  definedIn(url: string, args: readonly string[]): void {
    this.module ??= { url, args };
  }
  private module: { url: string; args: readonly string[] } | undefined;

  /** The dead-letter queue, when the job has one (worker threads forward theirs to it). @internal */
  get deadLetterQueueOf(): DeadLetterQueue | undefined {
    return this.deadLetterQueue;
  }

  /** The delivery guarantee in force. */
  get delivery(): DeliveryGuarantee {
    return this.options.delivery ?? (this.options.checkpoints ? 'at-least-once' : 'none');
  }

  /** Refuses a savepoint whose state would not all be restored (unless allowed), or whose steps changed kind. */
  private checkSavepoint(data: CheckpointData, options: StartOptions): CheckpointData {
    const byUid = new Map(this.graph.nodes.map((n) => [n.uid, n]));
    const orphans = Object.keys(data.steps).filter((uid) => !byUid.has(uid));
    if (orphans.length > 0 && !options.allowNonRestoredState) {
      throw new SluiceError('STATE_NOT_RESTORED', `the savepoint has state for step(s) ${orphans.map((u) => `'${u}'`).join(', ')} that job '${this.name}' does not have`);
    }
    for (const [uid, step] of Object.entries(data.steps)) {
      const node = byUid.get(uid);
      if (node && step.kind !== (node.source ? 'source' : node.kind)) {
        throw new SluiceError('CHECKPOINT_INVALID', `step '${uid}' is a ${node.source ? 'source' : node.kind} step now, but its state in the savepoint is of a ${step.kind} step`, {
          hint: 'Give the new step a new uid (it starts empty), or restore the old step.',
        });
      }
    }
    const steps = Object.fromEntries(Object.entries(data.steps).filter(([uid]) => byUid.has(uid)));
    return { ...data, steps };
  }

  /** Runs the job to its end (a bounded job) or until it fails. */
  async run(options: StartOptions = {}): Promise<JobResult> {
    return this.start(options).done;
  }

  // ---- used by the stream builders ----

  /** Adds a step. Stateful steps must name a uid; uids are unique. */
  addStep(spec: StepSpec): StepNode {
    this.checkNotStarted();
    for (const e of spec.inputs) {
      if (!this.graph.has(e.from)) {
        throw new SluiceError('INVALID_JOB', `a stream of another job was wired into step '${spec.kind}'`, {
          hint: 'Streams belong to the job that created them; build each job from its own sources.',
        });
      }
    }
    const uid = this.claimUid(spec.options?.uid, spec.kind, spec.stateful);
    return this.graph.add({
      uid,
      uidGiven: spec.options?.uid !== undefined,
      kind: spec.kind,
      stateful: spec.stateful,
      inputs: spec.inputs,
      description: spec.description,
      parallelism: spec.options?.parallelism,
      onError: spec.options?.onError,
      createOperator: spec.createOperator,
      sink: spec.sink,
    });
  }

  /** Adds a sink step. */
  addSink<T>(input: StreamEdge, sink: Sink<T>, options: StepOptions | undefined): void {
    this.addStep({
      kind: 'sink',
      options,
      stateful: false,
      inputs: [input],
      description: `${sink.kind}${sink.describe ? `: ${sink.describe()}` : ''}`,
      createOperator: () => new SinkOperator(sink),
      sink,
    });
  }

  /** Adds the step that assigns timestamps and watermarks. */
  addWatermarks<T>(input: StreamEdge, strategy: WatermarkStrategy<T>, options: StepOptions | undefined): StepNode {
    return this.addStep({
      kind: 'watermarks',
      options,
      stateful: false,
      inputs: [input],
      description: strategy.describe(),
      createOperator: () => new TimestampsAndWatermarksOperator(strategy),
    });
  }

  private claimUid(uid: string | undefined, kind: string, required: boolean): string {
    if (uid === undefined) {
      if (required) {
        throw new SluiceError('MISSING_UID', `a ${kind} step has no uid`);
      }
      let n = this.counters.get(kind) ?? 0;
      let made: string;
      do made = `${kind}-${++n}`;
      while (this.uids.has(made));
      this.counters.set(kind, n);
      this.uids.add(made);
      return made;
    }
    if (typeof uid !== 'string' || uid.trim() === '') {
      throw new SluiceError('MISSING_UID', `a ${kind} step has an empty uid`);
    }
    if (this.uids.has(uid)) {
      throw new SluiceError('DUPLICATE_UID', `uid '${uid}' is used by two steps (the second is a ${kind} step)`);
    }
    this.uids.add(uid);
    return uid;
  }

  /** Refuses a delivery guarantee the job cannot keep. */
  private checkDelivery(): void {
    const delivery = this.delivery;
    if (delivery === 'none') return;
    if (!this.options.checkpoints) {
      throw new SluiceError('DELIVERY_UNSUPPORTED', `job '${this.name}' asks for ${delivery} delivery but has no checkpoints`, {
        hint: "Add `checkpoints: { interval: '10s' }` to the job options.",
      });
    }
    for (const node of this.graph.nodes) {
      if (node.source && node.source !== this.deadLetterQueue?.source && node.source.replayable !== true) {
        throw new SluiceError('DELIVERY_UNSUPPORTED', `source '${node.uid}' (${node.source.kind}) cannot replay from a checkpoint, so ${delivery} delivery cannot be kept`, {
          hint: "Use a replayable source (for HTTP ingest: a durableLog), or say `delivery: 'none'` to run it without that guarantee.",
        });
      }
      if (delivery === 'exactly-once' && node.sink && !(node.sink.guarantees ?? ['at-least-once', 'none']).includes('exactly-once')) {
        throw new SluiceError('DELIVERY_UNSUPPORTED', `sink '${node.uid}' (${node.sink.kind}) cannot deliver exactly once`, {
          hint: "Use a transactional sink (such as transactionalFileSink) or choose delivery: 'at-least-once'.",
        });
      }
    }
  }

  private checkNotStarted(): void {
    if (this.started) throw new SluiceError('JOB_ALREADY_STARTED', `job '${this.name}' has already been started`);
  }

  /** Refuses a job that cannot run or would lose records without a trace. */
  private validate(): void {
    const nodes = this.graph.nodes;
    if (!nodes.some((n) => n.source && n.source !== this.deadLetterQueue?.source)) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' has no source`, { hint: 'Add one with job.source(…).' });
    }
    if (!nodes.some((n) => n.kind === 'sink')) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' has no sink, so its results would go nowhere`, {
        hint: 'End a stream with .print(), .sinkTo(…) or a collect sink.',
      });
    }
    this.checkDelivery();
    const deadLettering = this.options.onError === 'dead-letter' || nodes.some((n) => n.onError === 'dead-letter');
    const dlNode = nodes.find((n) => n.source && n.source === this.deadLetterQueue?.source);
    if (deadLettering && (!dlNode || this.graph.consumersOf(dlNode).length === 0)) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' sends failures to dead letters, but nothing consumes job.deadLetters()`, {
        hint: 'Add `job.deadLetters().print()` or write them to a sink, so that no failed record disappears.',
      });
    }
  }
}

function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n <= 0) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${String(n)}`);
  }
  return n;
}
