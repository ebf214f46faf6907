import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { url as inspectorUrl } from 'node:inspector';
import { isMainThread, workerData } from 'node:worker_threads';
import { JobBuilder, positiveInt, type JobBuildOptions } from '../api/job-builder.js';
import { checkpointConfig } from '../checkpoint/config.js';
import { clusterGraph } from '../cluster/cluster-graph.js';
import type { ClusterOptions } from '../cluster/cluster-options.js';
import { FileCheckpointStorage } from '../checkpoint/file-storage.js';
import { CheckpointRecovery } from '../checkpoint/recovery.js';
import type { CheckpointData, CheckpointStorage } from '../checkpoint/types.js';
import { SluiceError } from '../errors/index.js';
import { JobLog, type LogLevel, type LogOptions } from '../observe/job-log.js';
import { JobMetrics } from '../observe/job-metrics.js';
import { JobMonitor } from '../observe/job-monitor.js';
import { planJson } from '../observe/plan-json.js';
import type { JobResult } from '../runtime/attempt.js';
import type { RuntimeConfig } from '../runtime/config.js';
import { restartDecider } from '../runtime/restart-policy.js';
import { supervise, type RunningJob } from '../runtime/supervisor.js';
import { checkServerOptions, startServer, type JobServer, type ServerOptions } from '../server/server.js';
import { MemoryStateBackend } from '../state/memory-backend.js';
import { SystemClock, type Clock } from '../time/clock.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WatchdogConfig } from '../runtime/watchdog/watchdog.js';
import { ClusterThreads } from './cluster-threads.js';

/**
 * The script worker threads of a parallel run start with: the compiled `parallel-worker.js`
 * in the installed package; from the sources, `parallel-worker.mjs`, which registers tsx
 * and then imports `parallel-worker.ts`.
 */
const WORKER_SCRIPT = new URL(import.meta.url.endsWith('.ts') ? './parallel-worker.mjs' : './parallel-worker.js', import.meta.url);

/** Settings of a job: its plan and runtime ({@link JobBuildOptions}) and how a run is observed. */
export interface JobOptions extends JobBuildOptions {
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
  /**
   * How long a step may stay in one call (a batch of records, a watermark, a timer,
   * `open()`) before the watchdog calls it stuck: it logs `step_stuck` (the step, its
   * task and thread, what it was handling and a bounded preview of the record: the first
   * of its batch, or, after a restart, in which that task takes its records one at a time
   * until a checkpoint completes, the very one), `/healthz` and `/readyz` answer 503, and the
   * attempt fails with `STEP_STUCK` under the restart policy. Default '30s'; `false` turns
   * the watchdog off.
   *
   * Where the step runs matters. In a worker thread (parallelism 2 or more) the watchdog
   * terminates the thread at once and the job restarts from its last checkpoint. On the
   * main thread JavaScript cannot interrupt the call: the REST server cannot answer either
   * (so a liveness probe fails by itself), the watchdog's own thread writes the log line to
   * stderr, and the attempt fails only if the call returns; see {@link onStuck}. The
   * watchdog is off while a debugger is attached (a breakpoint holds a step too).
   */
  stuckAfter?: Duration | false;
  /**
   * What a step stuck on the main thread does to the process: `'fail'` (default) waits for
   * the call to return, then fails the attempt; `'exit'` exits the process with code 75
   * (`STUCK_EXIT_CODE`) after the log line, so that a supervisor (Kubernetes, systemd)
   * starts it again, from the last checkpoint. Steps in worker threads are always stopped
   * in the process.
   */
  onStuck?: 'fail' | 'exit';
}

/** A started job: the supervisor's handle plus what operates it (metrics, logs, server). */
export interface StartedJob extends RunningJob {
  /** Status, metrics, checkpoints, exceptions and logs of the run. */
  readonly monitor: JobMonitor;
  /** The REST server once it listens; undefined when off or no port was free. */
  readonly server: Promise<JobServer | undefined>;
  /**
   * A graceful stop: every source that can end its input (`Source.stop`, such as HTTP
   * ingest) stops taking input and ends once what it accepted is handed out. Returns
   * whether the job will now end by itself (every source was stopped): it then
   * finishes as a bounded job does, with a final checkpoint and the sinks' last commit. When
   * it returns false, some source reads on (cancel the job, or stop it with a savepoint).
   */
  drain(): boolean;
  /**
   * The graceful stop `sluice run` does on SIGTERM and Ctrl-C, for any job: {@link drain};
   * when every source was stopped the job then finishes by itself (final checkpoint, last
   * commit, checkpoints removed); otherwise, once the stopped sources have handed out what
   * they accepted, a checkpoint covering it is taken, the sinks commit it, and the job ends
   * as cancelled, its checkpoints kept for the sources that read on (Kafka, say): see
   * `RunningJob.stopAfterCheckpoint`. Nothing a source acknowledged is lost. Resolves once
   * the job was told to end (await `done` for the end); rejects, after cancelling, when no
   * checkpoint could be taken.
   *
   * @example
   * process.on('SIGTERM', () => void running.stop().catch((e) => console.error(e)));
   */
  stop(): Promise<void>;
}

/** How to start a run. */
export interface StartOptions {
  /** Start from this savepoint (a directory written by `savepoint()` or `sluice savepoint`). */
  fromSavepoint?: string;
  /**
   * Resume from this checkpoint rather than the latest: its id among the job's checkpoints,
   * the path of a checkpoint directory, or 'none' to start from the beginning. For when the
   * latest is damaged and the job refuses to resume (CHECKPOINT_CORRUPT): choosing one
   * accepts that output the sinks committed after it is written again. Newer checkpoints
   * move to quarantine. See `checkpoint/recovery.ts`.
   */
  fromCheckpoint?: string | number;
  /** Allow a savepoint with state for steps this job no longer has (that state is dropped). */
  allowNonRestoredState?: boolean;
  /** Overrides the job's default parallelism for this run (a savepoint of another parallelism rescales). */
  parallelism?: number;
  /** The arguments the job's `module` default export (a function) is called with in worker threads. */
  moduleArgs?: readonly string[];
  /**
   * Runs this process as one member of a cluster (see `cluster/index.ts`): the job's keyed
   * exchanges go through Kafka repartition topics, and the members share the work through
   * Kafka consumer groups, checkpointing every second unless the job sets an interval
   * (each checkpoint commits consumed offsets). With `parallelism` N the member runs N
   * stream threads, each a member of the group (`cluster-threads.ts`); the job must then be
   * loadable from its module (`sluice run`, or the job's `module` option).
   */
  cluster?: ClusterOptions;
  /** Told when the job fails and restarts. */
  onRestart?: (error: unknown, restart: number, delayMs: number) => void;
  /** Defaults for the job's `server` and `log` options where it sets none (`sluice run` turns both on). */
  observe?: {
    server?: ServerOptions | boolean;
    logLevel?: LogLevel;
    logDestination?: {
      /** Takes each log line at or above the level: one JSON object, newline included. */
      write(line: string): void;
    };
  };
}

/**
 * A dataflow job: sources, the steps between them, and sinks. Build it with the fluent
 * API, look at it with `explain()`, run it once with `run()` (or `start()` for a handle
 * that can cancel). Starting wires the runtime's supervisor to checkpoint storage, logs,
 * metrics, the job monitor and the REST server.
 *
 * @example
 * const job = new Job({ name: 'doubling' });
 * job.source(fromCollection([1, 2, 3]), { uid: 'numbers' }).map((n) => n * 2).print();
 * await job.run();
 */
export class Job extends JobBuilder {
  protected declare readonly options: JobOptions;

  constructor(options: JobOptions = {}) {
    super(options);
    if (options.module !== undefined) this.module = { url: options.module, args: [] };
    this.watchdog = watchdogOf(options);
  }
  private readonly watchdog: WatchdogConfig | undefined;

  /** Starts the job and returns a handle: `done` settles at the end, `cancel()` stops it. */
  start(options: StartOptions = {}): StartedJob {
    if (!isMainThread && (workerData as { fingerprint?: unknown } | undefined)?.fingerprint !== undefined) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' was started by its module while a worker thread of a parallel run loaded it`, {
        hint: 'Export the job from a module that does not start it; start it from another module or with `sluice run`.',
      });
    }
    this.validate(options.cluster !== undefined);
    this.checkNotStarted();
    this.started = true;
    const clock = this.options.clock ?? new SystemClock();
    if (options.cluster && (options.fromSavepoint !== undefined || options.fromCheckpoint !== undefined)) {
      throw new SluiceError('CLUSTER_UNSUPPORTED', `job '${this.name}': a cluster member starts from its tasks' changelogs, not from a savepoint or checkpoint`, {
        hint: 'Start the member without --from-savepoint / --from-checkpoint: it restores the state of the tasks the group gives it.',
      });
    }
    if (options.cluster && this.delivery === 'exactly-once') checkClusterSinks(this.graph.nodes);
    // A member commits in Kafka transactions unless the job asks for at-least-once (or none) itself.
    const clusterExactlyOnce = this.options.delivery === undefined || this.options.delivery === 'exactly-once';
    const threadCount = options.cluster ? this.streamThreadCount(options) : 0;
    const cluster = options.cluster && clusterGraph(this.graph, options.cluster, this.maxParallelism, clock, clusterExactlyOnce);
    // A member's checkpoints are its tasks' state in the changelog topics, committed in
    // Kafka transactions with its output and consumed offsets (cluster/changelog-storage.ts).
    const cp = cluster ? { ...this.options.checkpoints, interval: this.options.checkpoints?.interval ?? '1s' } : this.options.checkpoints;
    const checkpoints = cp && {
      config: checkpointConfig(cp),
      storage: cluster ? cluster.storage : this.checkpointStorage()!,
    };
    const policy = restartDecider(this.options.restart ?? (cp ? { strategy: 'fixed-delay', attempts: 3, delay: '1s' } : { strategy: 'none' }));
    // A rebalance is how a cluster moves work, not a failure: restarted at once, never counted.
    const restart = cluster ? { ...policy, free: (e: unknown) => (e as { code?: string }).code === 'CLUSTER_REBALANCE' } : policy;
    const savepointPath = options.fromSavepoint;
    if (options.fromCheckpoint !== undefined && (savepointPath !== undefined || !checkpoints)) {
      throw new SluiceError('INVALID_ARGUMENT', savepointPath !== undefined ? 'fromCheckpoint and fromSavepoint exclude each other' : `job '${this.name}' has no checkpoints to resume from (fromCheckpoint)`, {
        hint: 'Start from either a savepoint (--from-savepoint) or a checkpoint (--from-checkpoint), of a job with checkpoints on.',
      });
    }
    const serverOption = this.options.server ?? options.observe?.server ?? false;
    // A server beyond loopback without --insecure is refused before anything runs.
    if (serverOption !== false) checkServerOptions(serverOption === true ? {} : serverOption);
    const logLevel = this.options.log?.level ?? options.observe?.logLevel ?? 'silent';
    const log = new JobLog(this.name, {
      level: logLevel,
      destination: this.options.log?.destination ?? options.observe?.logDestination,
    });
    const recovery = cluster
      ? undefined
      : checkpoints &&
      new CheckpointRecovery(checkpoints.storage, {
        jobName: this.name,
        exactlyOnce: this.delivery === 'exactly-once',
        fromCheckpoint: options.fromCheckpoint,
        keepQuarantined: checkpoints.config.keepQuarantined,
        onEvent: (e) => log.logger[e.level]({ event: e.event, checkpointId: e.checkpointId, path: e.path }, e.message),
      });
    const threads = cluster && threadCount > 0 ? this.streamThreads(threadCount, options, logLevel, clock) : undefined;
    const metrics = new JobMetrics(this.name, clock, {
      traceEvery: this.options.tracing?.sampleEvery,
      onSpan: (span) => log.logger.debug({ event: 'span', span }, span.name),
      cluster: cluster ? (threads ? threads.figuresWith(cluster.figures) : cluster.figures) : undefined,
    });
    const counting = this.options.metrics !== false;
    let monitor: JobMonitor | undefined;
    // A member's parallelism is its stream threads, each a member of the group running the job at parallelism 1.
    const config = this.runtimeConfig(clock, cluster ? 1 : options.parallelism, counting ? metrics : undefined, options.moduleArgs);
    // The watchdog thread writes a stuck main thread's log line to stderr itself, if the
    // level lets errors through. Under a debugger it is off: a step paused at a breakpoint
    // has not returned either.
    const stderr = logLevel !== 'silent' && logLevel !== 'fatal';
    const watchdog = config.watchdog && inspectorUrl() === undefined ? { ...config.watchdog, stderr } : undefined;
    const running = supervise(
      cluster ? cluster.graph : this.graph,
      // Worker threads of a parallel run would rebuild the job's own graph, not the member's: a member's threads are members themselves.
      cluster ? { ...config, watchdog, workers: undefined } : { ...config, watchdog },
      this.deadLetterQueue,
      {
        checkpoints,
        restart,
        onStuck: (s) => monitor?.stuck(s),
        onRestart: (error, n, delay) => {
          monitor?.restarted(error, n, delay);
          options.onRestart?.(error, n, delay);
        },
        onCheckpoint: (s) => monitor?.checkpoint(s),
        recovery: cluster
          ? {
              latest: async () => {
                const data = await cluster.storage.restore();
                // How fast a member takes over its tasks' state (read by bench/cluster/restore.ts).
                const r = cluster.storage.lastRestore;
                if (r && r.tasks > 0) {
                  log.logger.info({ event: 'cluster_restored', ...r }, `restored ${r.entries} state entries of ${r.tasks} task(s) in ${r.ms} ms: ${r.local} from copies on disk, ${r.tasks - r.local} from the changelog topics (${r.bytes} bytes)`);
                }
                return data;
              },
              finished: async () => {},
            }
          : recovery,
        restore: savepointPath
          ? async () => {
              const data = this.checkSavepoint(await new FileCheckpointStorage(savepointPath).readPath(savepointPath), options);
              await recovery?.startingFrom(data.checkpointId, savepointPath);
              return data;
            }
          : undefined,
      },
    );
    // The monitor controls the job through what start() returns (cancel, savepoints, the
    // graceful stop of SIGTERM for the API's POST /stop), made below.
    let started: StartedJob | undefined;
    const storage = checkpoints?.storage;
    monitor = new JobMonitor(this.name, planJson(this.graph), metrics, log, () => started!, counting, {
      savepoints: resolve(cp?.savepointDir ?? `.sluice/savepoints/${this.name}`),
      checkpoints: storage instanceof FileCheckpointStorage ? storage.dir : undefined,
    });
    monitor.labels = Object.freeze({ ...(this.options.labels ?? {}) });
    metrics.stateBackends = () => running.stateBackends;
    metrics.checkpoints = () => running.checkpoints;
    monitor.started({ delivery: this.delivery, checkpoints: cp !== undefined, fromSavepoint: savepointPath });
    monitor.sampler.start();
    const server = serverOption === false ? Promise.resolve(undefined) : startServer(monitor, serverOption === true ? {} : serverOption, log.logger);
    const m = monitor;
    const done = (threads ? threads.alongside(running) : running.done).then(
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
    // The member leaves the group when its job ends: its tasks move to the others at once.
    if (cluster) void done.catch(() => {}).finally(() => cluster.close());
    started = {
      done,
      monitor,
      server,
      cancel: () => {
        running.cancel();
        threads?.cancel();
      },
      drain: () => {
        threads?.drain();
        return this.drainSources(running);
      },
      stop: async () => {
        threads?.stop();
        if (!this.drainSources(running)) await running.stopAfterCheckpoint();
      },
      stopAfterCheckpoint: () => {
        threads?.stop();
        return running.stopAfterCheckpoint();
      },
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
      get stuck() {
        return running.stuck;
      },
    };
    return started;
  }

  /**
   * The stream threads beside the main thread of a cluster member run with parallelism N
   * (`cluster-threads.ts`); undefined at parallelism 1. They load the job from its module.
   */
  private streamThreads(count: number, options: StartOptions, logLevel: LogLevel, clock: Clock): ClusterThreads {
    const destination = this.options.log?.destination ?? options.observe?.logDestination ?? process.stderr;
    return new ClusterThreads(count, { module: this.module!.url, args: [...(options.moduleArgs ?? this.module!.args)], cluster: options.cluster!, logLevel }, clock, (line) => destination.write(line));
  }

  /** How many stream threads a cluster member runs beside its main thread: its parallelism − 1. Refused without a module to load the job from. */
  private streamThreadCount(options: StartOptions): number {
    const n = positiveInt(options.parallelism ?? this.options.parallelism ?? 1, 'parallelism');
    if (n > 1 && this.module === undefined) {
      throw new SluiceError('INVALID_ARGUMENT', `job '${this.name}': a cluster member with parallelism ${n} runs ${n - 1} stream thread(s) that load the job from its module, and it has none`, {
        hint: "Run it with `sluice run job.ts`, or name the job's module: new Job({ …, module: import.meta.url }).",
      });
    }
    return n - 1;
  }

  /** Stops every source that can end its input; whether every source now ends (see `StartedJob.drain`). */
  private drainSources(running: RunningJob): boolean {
    const sources = this.graph.nodes.flatMap((n) => (n.source && n.source !== this.deadLetterQueueOf?.source ? [n.source] : []));
    // Through the attempt's tasks (and those of any restart): a stopped source's
    // checkpointed state then says it was stopped, not that its input ended.
    running.drain();
    return sources.every((s) => s.stop !== undefined);
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
      watchdog: this.watchdog,
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
}

/** The watchdog's settings from the job's options (`stuckAfter`, `onStuck`); undefined when it is off. */
/**
 * Cluster mode keeps exactly-once with Kafka transactions: a sink that is not Kafka cannot
 * join them, and its own two-phase commit keeps its pending state per process, which does
 * not move with the tasks. Refused rather than delivered twice or lost.
 */
function checkClusterSinks(nodes: readonly { uid: string; sink?: { kind: string } | undefined }[]): void {
  for (const node of nodes) {
    if (!node.sink || node.sink.kind === 'kafka' || node.sink.kind === 'dead-letters') continue;
    throw new SluiceError('CLUSTER_UNSUPPORTED', `sink '${node.uid}' (${node.sink.kind}) cannot deliver exactly once in cluster mode: only Kafka sinks write in the members' transactions`, {
      step: node.uid,
      hint: "Write the results to Kafka, or choose delivery: 'at-least-once' (with an idempotent sink, such as PostgreSQL upserts, the results are still right).",
    });
  }
}

function watchdogOf(options: JobOptions): WatchdogConfig | undefined {
  const onStuck = options.onStuck ?? 'fail';
  if (onStuck !== 'fail' && onStuck !== 'exit') {
    throw new SluiceError('INVALID_ARGUMENT', `onStuck must be 'fail' or 'exit', got ${String(onStuck)}`);
  }
  if (options.stuckAfter === false) return undefined;
  const stuckAfterMs = toMillis(options.stuckAfter ?? '30s', 'stuckAfter');
  if (!(stuckAfterMs > 0)) throw new SluiceError('INVALID_ARGUMENT', `stuckAfter must be more than 0 (or false for no watchdog), got ${String(options.stuckAfter)}`);
  // stderr: set by start(), from the log level of the run.
  return { stuckAfterMs, onStuck, stderr: false };
}
