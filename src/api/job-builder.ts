import type { DeliveryGuarantee, Sink } from '../connectors/sink.js';
import type { Source } from '../connectors/source.js';
import type { CheckpointOptions } from '../checkpoint/config.js';
import type { StepOptions } from '../core/step-options.js';
import { shedSpec, shedWhen, type LoadShedding } from '../core/load-shedding.js';
import { SluiceError } from '../errors/index.js';
import { JobGraph, type StepNode, type StreamEdge } from '../plan/graph.js';
import { DeadLetterQueue, type DeadLetter } from '../runtime/dead-letter-queue.js';
import type { Operator } from '../runtime/operator.js';
import { SinkOperator } from '../runtime/operators/sink.js';
import { TimestampsAndWatermarksOperator } from '../runtime/operators/timestamps-watermarks.js';
import type { RestartPolicy } from '../runtime/restart-policy.js';
import { DEFAULT_MAX_PARALLELISM } from '../state/key-groups.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { Clock } from '../time/clock.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WatermarkStrategy } from '../time/watermark-strategy.js';
import { DataStream } from './data-stream.js';
import { explainJob } from './explain.js';

/**
 * Settings of a job's plan and runtime. Every one has a default that suits a local run.
 * (`JobOptions`, in `launch/job.ts`, adds how a run is observed: metrics, server, logs.)
 */
export interface JobBuildOptions {
  /** Shown in explain(), logs and metrics. Default 'job'. */
  name?: string;
  /**
   * Labels of the job (`{ team: 'payments', tier: 'critical' }`): shown by `GET /jobs`, and
   * what the REST API's attribute rules (`server.auth.policy`) match jobs by.
   */
  labels?: Readonly<Record<string, string>>;
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
  /**
   * Load shedding under overload (off by default): see {@link LoadShedding}. Its side
   * output is the source step's: with `watermarks` too, assign them on the main stream
   * instead (`job.source(…).assignTimestampsAndWatermarks(…)`), so that
   * `sideOutput(tag)` is asked of the source's own stream.
   */
  shed?: LoadShedding<T>;
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
 * What a job is made of, as the fluent API builds it: sources, the steps between them,
 * sinks, and the settings they run with; `explain()` shows the plan. Nothing runs here:
 * {@link Job} (in `launch/`) adds `start()` and `run()`.
 */
export class JobBuilder {
  readonly name: string;
  readonly graph: JobGraph<Operator> = new JobGraph<Operator>();
  protected readonly options: JobBuildOptions;
  protected readonly batchSize: number;
  protected readonly flushIntervalMs: number;
  protected readonly channelCapacity: number;
  protected readonly maxParallelism: number;
  private readonly uids = new Set<string>();
  private readonly counters = new Map<string, number>();
  protected deadLetterQueue: DeadLetterQueue | undefined;
  private deadLetterStream: DataStream<DeadLetter> | undefined;
  protected started = false;

  constructor(options: JobBuildOptions = {}) {
    this.options = options;
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
    const shed = options.shed === undefined ? undefined : shedSpec(options.shed, `source '${uid}'`);
    if (shed?.sideOutput !== undefined && options.watermarks) {
      throw new SluiceError('INVALID_ARGUMENT', `source '${uid}': shed.sideOutput needs the source's own stream, which \`watermarks\` replaces`, {
        hint: "Leave out `watermarks` and call `.assignTimestampsAndWatermarks(…)` on the source's stream; ask `sideOutput(tag)` of the source's stream.",
      });
    }
    const node = this.graph.add({
      uid,
      uidGiven: true,
      kind: 'source',
      stateful: true,
      inputs: [],
      description: `${source.kind}${source.describe ? `: ${source.describe()}` : ''}${source.bounded ? ' (bounded)' : ''}${shed ? `, sheds load when ${shedWhen(shed)}` : ''}`,
      parallelism: options.parallelism,
      onError: options.onError,
      source,
      shed,
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

  /** The dead-letter queue, when the job has one (worker threads forward theirs to it). @internal */
  get deadLetterQueueOf(): DeadLetterQueue | undefined {
    return this.deadLetterQueue;
  }

  /** The delivery guarantee in force. */
  get delivery(): DeliveryGuarantee {
    return this.options.delivery ?? (this.options.checkpoints ? 'at-least-once' : 'none');
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

  /** Refuses a delivery guarantee the job cannot keep. `inCluster`: a cluster member checkpoints into Kafka whatever the job's options say. */
  private checkDelivery(inCluster: boolean): void {
    const delivery = this.delivery;
    if (delivery === 'none') return;
    if (!this.options.checkpoints && !inCluster) {
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

  protected checkNotStarted(): void {
    if (this.started) throw new SluiceError('JOB_ALREADY_STARTED', `job '${this.name}' has already been started`);
  }

  /** Refuses a job that cannot run or would lose records without a trace. */
  protected validate(inCluster = false): void {
    const nodes = this.graph.nodes;
    if (!nodes.some((n) => n.source && n.source !== this.deadLetterQueue?.source)) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' has no source`, { hint: 'Add one with job.source(…).' });
    }
    if (!nodes.some((n) => n.kind === 'sink')) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' has no sink, so its results would go nowhere`, {
        hint: 'End a stream with .print(), .sinkTo(…) or a collect sink.',
      });
    }
    this.checkDelivery(inCluster);
    const deadLettering = this.options.onError === 'dead-letter' || nodes.some((n) => n.onError === 'dead-letter');
    const dlNode = nodes.find((n) => n.source && n.source === this.deadLetterQueue?.source);
    if (deadLettering && (!dlNode || this.graph.consumersOf(dlNode).length === 0)) {
      throw new SluiceError('INVALID_JOB', `job '${this.name}' sends failures to dead letters, but nothing consumes job.deadLetters()`, {
        hint: 'Add `job.deadLetters().print()` or write them to a sink, so that no failed record disappears.',
      });
    }
  }
}

/** Checks a setting that must be a positive integer. */
export function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n <= 0) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${String(n)}`);
  }
  return n;
}
