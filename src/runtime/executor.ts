import type { DeadLetter } from './dead-letter-queue.js';
import type { Source, SourceContext } from '../connectors/source.js';
import { SluiceError, describeRecord } from '../errors/index.js';
import type { StepNode } from '../plan/graph.js';
import { buildPhysicalPlan, type Chain, type PhysicalPlan } from '../plan/physical.js';
import type { JobGraph } from '../plan/graph.js';
import { keyGroupRange } from '../state/key-groups.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { Clock } from '../time/clock.js';
import { hasTimestamp } from './batch.js';
import { LocalChannel, type ChannelReceiver, type ChannelSender } from './channel.js';
import { ChannelOutput } from './channel-output.js';
import type { DeadLetterOutput, DeadLetterQueue } from './dead-letter-queue.js';
import { InputGate, type GateInput } from './input-gate.js';
import type { Operator, OperatorRuntime, SubtaskInfo } from './operator.js';
import { OperatorOutputs, outputOf, type Output } from './output.js';
import { SourceTask, StreamTask, type Backpressure, type SourceStepState, type Task, type TaskCheckpointing } from './task.js';
import type { CheckpointConfig } from '../checkpoint/config.js';
import type { JobMetrics } from '../observe/job-metrics.js';
import { stepIn, type BatchContext, type StepMetrics } from '../observe/step-metrics.js';
import { MeteredOutput } from './metered-output.js';
import { CheckpointCoordinator, type CheckpointParticipants, type CheckpointStats } from '../checkpoint/coordinator.js';
import type { CheckpointData, CheckpointStorage, StepState } from '../checkpoint/types.js';
import { partsOf } from '../checkpoint/step-parts.js';
import { partitionerFor } from './exchange/partitioners.js';

/** The settings a job runs with (see `JobOptions` for their meaning and defaults). */
export interface RuntimeConfig {
  readonly jobName: string;
  /**
   * Names this execution of the job: one `start()`, the same across its restarts (worker
   * threads get the main thread's), new with every start (`SinkContext.executionId`).
   */
  readonly executionId: string;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly channelCapacity: number;
  readonly maxPollWaitMs: number;
  readonly maxParallelism: number;
  /** Subtasks per step where the step does not say (see `resolveParallelism`). */
  readonly parallelism: number;
  readonly onError: 'fail' | 'dead-letter';
  readonly clock: Clock;
  readonly createStateBackend: (uid: string) => KeyedStateBackend;
  /** The directory of a subtask's incremental checkpoint files (`OperatorRuntime.sharedStateDir`), when the checkpoint storage has one. */
  readonly sharedStateDir?: ((subtask: string) => string) | undefined;
  /** Exactly-once with checkpoints: transactional sinks publish only on commit. */
  readonly exactlyOnce: boolean;
  /** Counters to add to (undefined: the job counts nothing, `metrics: false`). */
  readonly metrics?: JobMetrics | undefined;
  /**
   * For runs with parallelism above 1: the script worker threads start with, and the
   * module (with its arguments) that builds the job in each (see `parallel/`).
   */
  readonly workers?: { readonly script: URL; readonly module: string; readonly args: readonly string[] } | undefined;
}

/** How a run starts and checkpoints. */
export interface ExecuteOptions {
  /** State to start from (a checkpoint or savepoint). */
  readonly restore?: CheckpointData | undefined;
  /** Periodic checkpoints. */
  readonly checkpoints?: { readonly config: CheckpointConfig; readonly storage: CheckpointStorage; onEvent?: (s: CheckpointStats) => void } | undefined;
}

export interface JobResult {
  readonly status: 'finished' | 'cancelled';
}

/** A job while it runs. */
export interface RunningJob {
  /** Settles when the job ends: resolves when it finished or was cancelled, rejects with its failure. */
  readonly done: Promise<JobResult>;
  /** Stops every task; pending event-time timers do not fire. */
  cancel(): void;
  /** Keyed state backends by step uid (the test harness reads them). */
  readonly stateBackends: ReadonlyMap<string, KeyedStateBackend>;
  /** Channels between tasks, for metrics and tests of backpressure. */
  readonly channels: readonly LocalChannel<unknown>[];
  /** The checkpoint coordinator, when the job checkpoints. */
  readonly coordinator?: CheckpointCoordinator | undefined;
}

/** Feeds a chained operator: the chain's next step is called directly. */
class ChainedOutput<T> implements Output<T> {
  constructor(
    private readonly op: Operator<T, unknown>,
    private readonly metrics?: { step: StepMetrics; context: BatchContext },
  ) {}
  emitBatch(batch: { values: T[]; timestamps: number[] }): void {
    const n = batch.values.length;
    if (n === 0) return;
    if (this.metrics) stepIn(this.metrics.step, n, this.metrics.context);
    this.op.processBatch(batch, 0);
  }
  emitWatermark(watermark: number): void {
    this.op.processWatermark(watermark);
  }
  emitIdle(idle: boolean): void {
    this.op.processIdle(idle);
  }
  emitEnd(): void {
    this.op.endInput();
  }
}

/** One channel of the physical plan: from a subtask of one chain to a subtask of another. */
export interface ChannelSpec {
  /** Position in the plan's channel list: the same in every thread that builds the plan. */
  readonly id: number;
  readonly from: { readonly node: StepNode; readonly subtask: number };
  readonly to: { readonly node: StepNode; readonly subtask: number };
}

/**
 * Where subtasks run, and how channels between places are made. In one thread
 * (`LOCAL_PLACEMENT`) every subtask runs here and every channel is a local queue; with
 * worker threads, each thread builds the subtasks of its own slot, and a channel whose
 * ends are in two threads is opened from endpoints made beforehand.
 */
export interface Placement {
  /** Whether subtask `subtask` of a chain runs in this thread. */
  isLocal(subtask: number): boolean;
  /**
   * A channel not wholly in this thread: the ends that are here (none when both are
   * elsewhere; the main thread still hands out the endpoints then).
   */
  crossing?(spec: ChannelSpec, producerHere: boolean, consumerHere: boolean): { out?: ChannelSender<unknown>; in?: ChannelReceiver<unknown> };
  /** How often tasks here let messages from other threads in (see `Task.yieldIntervalMs`). */
  readonly yieldIntervalMs?: number;
}

export const LOCAL_PLACEMENT: Placement = { isLocal: () => true };

/** The name of a subtask's task: the chain head's uid, with `#index` when it runs in parallel. */
export function subtaskName(uid: string, index: number, parallelism: number): string {
  return parallelism === 1 ? uid : `${uid}#${index}`;
}

/** The tasks of one thread, built from the plan, not yet running. */
export interface BuiltTasks {
  readonly plan: PhysicalPlan;
  readonly tasks: Task[];
  readonly taskOf: Map<string, Task>;
  readonly sourceTasks: SourceTask<unknown>[];
  readonly stateBackends: Map<string, KeyedStateBackend>;
  readonly localChannels: LocalChannel<unknown>[];
  /** Every channel end made here (local ones appear twice), released when the tasks end. */
  readonly outs: ChannelSender<unknown>[];
  /** Stops everything built here. */
  readonly abort: AbortController;
}

/**
 * Builds the subtasks the placement puts in this thread: operators (one instance per
 * subtask), outputs (chained calls inside a subtask, partitioned channels between tasks),
 * input gates and tasks. Every thread enumerates channels in the same order, so a
 * channel's id names it everywhere.
 */
export function buildTasks(
  graph: JobGraph<Operator>,
  config: RuntimeConfig,
  deadLetters: DeadLetterOutput | undefined,
  restore: CheckpointData | undefined,
  placement: Placement,
  onFailure: (error: unknown) => void,
): BuiltTasks {
  const plan = buildPhysicalPlan(graph, config.parallelism, config.maxParallelism);
  const restored = restore?.steps ?? {};
  const metrics = config.metrics;
  const pOf = (n: StepNode) => plan.parallelismOf(n);
  const local = (n: StepNode, j: number) => placement.isLocal(j) && j < pOf(n);

  // Operators, one per subtask of each step (undefined where the subtask runs elsewhere).
  const operators = new Map<StepNode, Array<Operator<any, any> | undefined>>();
  for (const node of graph.nodes) {
    if (!node.createOperator) continue;
    const list: Array<Operator<any, any> | undefined> = [];
    for (let j = 0; j < pOf(node); j++) list.push(local(node, j) ? node.createOperator() : undefined);
    operators.set(node, list);
  }
  // Counters per subtask of each step (a parallel step reports each subtask, labelled).
  const stepMetrics = new Map<StepNode, Array<StepMetrics | undefined>>();
  if (metrics) {
    for (const node of graph.nodes) {
      const task = plan.chainOf(node).nodes[0]!.uid;
      const list = Array.from({ length: pOf(node) }, (_, j) => {
        if (!local(node, j)) return undefined;
        const m = metrics.step(node.uid, node.source ? 'source' : node.kind, task, j);
        m.attach(operators.get(node)?.[j]);
        return m;
      });
      stepMetrics.set(node, list);
    }
  }
  const metricsOf = (node: StepNode, j: number) => stepMetrics.get(node)?.[j];

  const key = (chain: Chain, j: number) => `${chain.id}/${j}`;
  const writersOf = new Map<string, ChannelOutput<unknown>[]>();
  const gateInputsOf = new Map<string, GateInput[]>();
  const localChannels: LocalChannel<unknown>[] = [];
  const outs: ChannelSender<unknown>[] = [];
  const push = <V>(m: Map<string, V[]>, k: string, v: V) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  let nextChannel = 0;

  // Outputs of every local step instance: chained consumers are called directly, others
  // get one channel per consuming subtask and a partitioner that picks among them.
  const outputsOf = new Map<StepNode, OperatorOutputs<unknown>[]>();
  for (const node of graph.nodes) {
    const chain = plan.chainOf(node);
    const perSubtask: OperatorOutputs<unknown>[] = [];
    for (let i = 0; i < pOf(node); i++) {
      const byTag = new Map<string | undefined, Output<unknown>[]>();
      for (const { edge, to } of graph.consumersOf(node)) {
        let target: Output<unknown> | undefined;
        if (plan.isChained(to)) {
          if (local(node, i)) target = new ChainedOutput(operators.get(to)![i]!, metrics && { step: metricsOf(to, i)!, context: metrics.context });
        } else {
          const mode = plan.exchange(edge, to);
          const consumers = mode === 'forward' ? [i] : Array.from({ length: pOf(to) }, (_, j) => j);
          const writers: ChannelOutput<unknown>[] = [];
          for (const j of consumers) {
            const spec: ChannelSpec = { id: nextChannel++, from: { node, subtask: i }, to: { node: to, subtask: j } };
            const producerHere = local(node, i);
            const consumerHere = local(to, j);
            let out: ChannelSender<unknown> | undefined;
            let inn: ChannelReceiver<unknown> | undefined;
            if (producerHere && consumerHere) {
              const channel = new LocalChannel<unknown>(config.channelCapacity);
              localChannels.push(channel);
              metrics?.addChannel(node.uid, to.uid, channel);
              out = inn = channel;
            } else {
              const ends = placement.crossing!(spec, producerHere, consumerHere);
              out = ends.out;
              inn = ends.in;
            }
            if (inn) push(gateInputsOf, key(plan.chainOf(to), j), { channel: inn, input: edge.input });
            if (out) {
              outs.push(out);
              const writer = new ChannelOutput(out, config.batchSize, config.flushIntervalMs, config.clock);
              writer.context = metrics?.context;
              push(writersOf, key(chain, i), writer);
              writers.push(writer);
            }
          }
          if (local(node, i)) target = partitionerFor(mode, writers, edge.keySelector, config.maxParallelism);
        }
        if (target === undefined) continue;
        const list = byTag.get(edge.tag) ?? [];
        list.push(target);
        byTag.set(edge.tag, list);
      }
      const sides = new Map<string, Output<unknown>>();
      const sm = metricsOf(node, i);
      for (const [tag, list] of byTag) if (tag !== undefined) sides.set(tag, sm ? new MeteredOutput(outputOf(list), sm, false) : outputOf(list));
      const main = outputOf(byTag.get(undefined) ?? []);
      perSubtask.push(new OperatorOutputs(sm ? new MeteredOutput(main, sm, node.source !== undefined) : main, sides));
    }
    outputsOf.set(node, perSubtask);
  }

  const abort = new AbortController();
  const tasks: Task[] = [];
  const taskOf = new Map<string, Task>();
  const sourceTasks: SourceTask<unknown>[] = [];
  const stateBackends = new Map<string, KeyedStateBackend>();
  const backpressure: Backpressure[] = deadLetters ? [deadLetters] : [];
  // Tasks that consume dead letters make room in the queue: they must not wait for room in
  // it, or they and a task that fills it would wait for each other (see errors.test.ts).
  const deadLetterConsumers = deadLetters ? chainsFedBy(graph, plan.chainOf, deadLetters) : new Set<Chain>();

  for (const chain of plan.chains) {
    const head = chain.nodes[0]!;
    for (let j = 0; j < chain.parallelism; j++) {
      if (!local(head, j)) continue;
      const name = subtaskName(head.uid, j, chain.parallelism);
      const subtask = { index: j, parallelism: chain.parallelism, keyGroups: keyGroupRange(j, chain.parallelism, config.maxParallelism) };
      const ops = chain.nodes.filter((n) => n.createOperator).map((n) => operators.get(n)![j]!);
      const writers = writersOf.get(key(chain, j)) ?? [];
      const waitsFor = deadLetterConsumers.has(chain) ? [] : backpressure;
      // Operators are set up before the task exists; they reach it through this late binding.
      const bind: { task?: Task } = {};
      for (const node of chain.nodes) {
        const op = operators.get(node)?.[j];
        if (!op) continue;
        const backendName = subtaskName(node.uid, j, chain.parallelism);
        op.setup(operatorRuntime(node, backendName, subtask, config, bind, stateBackends, deadLetters, metricsOf(node, j)), outputsOf.get(node)![j]!);
        const step = restored[node.uid];
        if (step !== undefined) restoreOperator(op, step, subtask);
      }
      let task: Task;
      if (head.source) {
        const source = head.source;
        const position = sourcePosition(head.uid, source, restored[head.uid], subtask);
        const ctx: SourceContext = {
          uid: head.uid,
          subtask: { index: j, parallelism: chain.parallelism },
          clock: config.clock,
          maxBatchSize: config.batchSize,
          maxPollWaitMs: config.maxPollWaitMs,
          signal: abort.signal,
          badRecord: (raw, error, pos) => badRecord(head, config, deadLetters, raw, error, pos, metricsOf(head, j)),
          restoredPosition: position?.position,
        };
        const sourceTask = new SourceTask(name, head.uid, source, () => source.createReader(ctx), outputsOf.get(head)![j]!, ops, writers, config.clock, waitsFor, onFailure);
        sourceTask.restoredFinished = position?.finished === true;
        sourceTasks.push(sourceTask);
        task = sourceTask;
      } else {
        const gate = new InputGate(gateInputsOf.get(key(chain, j)) ?? []);
        task = new StreamTask(name, gate, ops, writers, config.clock, waitsFor, onFailure);
      }
      task.subtask = subtask;
      task.head = head;
      if (placement.yieldIntervalMs !== undefined) task.yieldIntervalMs = placement.yieldIntervalMs;
      bind.task = task;
      task.metrics = metrics?.task(name, chain.nodes.map((n) => metricsOf(n, j)!), j);
      tasks.push(task);
      taskOf.set(name, task);
    }
  }
  return { plan, tasks, taskOf, sourceTasks, stateBackends, localChannels, outs, abort };
}

/** Gives an operator its state from a checkpoint: its own subtask's, or every old subtask's when the parallelism changed. */
function restoreOperator(op: Operator<any, any>, step: StepState, subtask: SubtaskInfo): void {
  const parts = partsOf(step);
  if (parts.length === subtask.parallelism) {
    const own = parts[subtask.index];
    if (own !== undefined) op.initializeState(own);
  } else op.initializeStateParts(parts);
}

/**
 * A source subtask's restored position. At another parallelism, the source redistributes
 * its readers' positions (a split-based source), or none may move.
 */
function sourcePosition(uid: string, source: Source<unknown>, step: StepState | undefined, subtask: SubtaskInfo): SourceStepState | undefined {
  if (step === undefined) return undefined;
  const parts = partsOf(step) as Array<SourceStepState | undefined>;
  if (parts.length === subtask.parallelism) return parts[subtask.index];
  if (parts.every((p) => p?.finished === true)) return { finished: true };
  if (source.redistributePositions) {
    return { position: source.redistributePositions(parts.map((p) => p?.position), { index: subtask.index, parallelism: subtask.parallelism }) };
  }
  throw new SluiceError('STATE_RESCALE_UNSUPPORTED', `source '${uid}' ran with ${parts.length} readers and cannot resume its position with ${subtask.parallelism}`, {
    step: uid,
    hint: `Restore with parallelism ${parts.length} for this source.`,
  });
}

/**
 * Turns a logical plan into running tasks in this thread: chains of operators, one task
 * per subtask of each chain, bounded channels between them. Worker threads build on
 * `buildTasks` (see `parallel/`).
 */
export function execute(graph: JobGraph<Operator>, config: RuntimeConfig, deadLetters?: DeadLetterQueue, options: ExecuteOptions = {}): RunningJob {
  config.metrics?.beginAttempt();
  const outcome = new RunOutcome();
  const onFailure = (error: unknown) => {
    outcome.fail(error);
    built.abort.abort();
    coordinator?.stop();
    for (const t of built.tasks) t.stop();
  };
  const built = buildTasks(graph, config, deadLetters, options.restore, LOCAL_PLACEMENT, onFailure);
  const { tasks, sourceTasks } = built;

  const coordinator = coordinate(config, options, built, {
    taskCount: tasks.length,
    injectBarrier: (id) => {
      for (const t of sourceTasks) t.injectBarrier(id);
    },
    notifyComplete: (id) => {
      for (const t of tasks) t.notifyCheckpointComplete(id);
    },
  });

  const runs = tasks.map((t) => t.run());
  coordinator?.start();
  if (deadLetters) endDeadLettersWhenDone(graph, built.plan, built.tasks, deadLetters);

  return runningJob(built, coordinator, outcome, Promise.allSettled(runs), () => {
    built.abort.abort();
    for (const t of tasks) t.stop();
  });
}

/** How a run ends: its first failure, unless it was cancelled before. */
export class RunOutcome {
  private failure: unknown;
  private cancelled = false;

  /** The run has failed or been cancelled. */
  get ended(): boolean {
    return this.failure !== undefined || this.cancelled;
  }
  fail(error: unknown): void {
    if (!this.ended) this.failure = error;
  }
  /** Cancels the run unless it has failed; returns whether it did. */
  cancel(): boolean {
    if (this.failure !== undefined) return false;
    this.cancelled = true;
    return true;
  }
  /** The result once every task has settled: the failure thrown, or how it ended. */
  result(): JobResult {
    if (this.failure !== undefined) throw this.failure;
    return { status: this.cancelled ? 'cancelled' : 'finished' };
  }
}

/**
 * The handle of a run, in this thread or with worker threads: when every task has
 * `settled`, checkpoints stop, channels are released, `cleanup` runs (worker threads end)
 * and `done` settles with the outcome; `cancel` calls `stop` unless the run has failed.
 */
export function runningJob(
  built: BuiltTasks,
  coordinator: CheckpointCoordinator | undefined,
  outcome: RunOutcome,
  settled: Promise<unknown>,
  stop: () => void,
  cleanup?: () => Promise<void>,
): RunningJob {
  const done = settled.then(async (): Promise<JobResult> => {
    coordinator?.stop();
    for (const c of built.outs) c.release();
    await cleanup?.();
    return outcome.result();
  });
  return {
    done,
    cancel: () => {
      if (outcome.cancel()) stop();
    },
    stateBackends: built.stateBackends,
    channels: built.localChannels,
    coordinator,
  };
}

/**
 * The checkpoint coordinator of a run, when it checkpoints, with this thread's tasks
 * acknowledging to it directly (tasks of worker threads acknowledge through messages).
 */
export function coordinate(
  config: RuntimeConfig,
  options: ExecuteOptions,
  built: BuiltTasks,
  participants: CheckpointParticipants,
): CheckpointCoordinator | undefined {
  if (!options.checkpoints) return undefined;
  const { config: cc, storage, onEvent } = options.checkpoints;
  const c = new CheckpointCoordinator(config.jobName, cc, storage, config.clock, participants, options.restore?.checkpointId ?? 0, onEvent);
  const checkpointing: TaskCheckpointing = {
    acknowledge: (id, task, steps, alignmentMs) => c.acknowledge(id, task, steps, alignmentMs),
    finished: (task, steps) => c.taskFinished(task, steps),
  };
  for (const t of built.tasks) t.checkpointing = checkpointing;
  return c;
}

function operatorRuntime(
  node: StepNode,
  /** Names the subtask's state backend: the uid, with `#index` in parallel. */
  backendName: string,
  subtask: SubtaskInfo,
  config: RuntimeConfig,
  bind: { task?: Task },
  stateBackends: Map<string, KeyedStateBackend>,
  deadLetters: DeadLetterOutput | undefined,
  metrics: StepMetrics | undefined,
): OperatorRuntime {
  const policy = node.onError ?? config.onError;
  return {
    uid: node.uid,
    kind: node.kind,
    clock: config.clock,
    maxParallelism: config.maxParallelism,
    subtask,
    exactlyOnce: config.exactlyOnce,
    executionId: config.executionId,
    sharedStateDir: config.sharedStateDir?.(backendName),
    userError(error, record, timestamp, what) {
      const e = asStepError(error, node, record, what);
      if (metrics) metrics.errors++;
      if (policy === 'fail' || !deadLetters) throw e;
      if (metrics) metrics.deadLettered++;
      deadLetters.push({
        step: node.uid,
        record,
        error: { code: e.code, message: e.message.split('\n')[0]! },
        timestamp: hasTimestamp(timestamp) ? timestamp : undefined,
      });
    },
    defer: (work) => bind.task!.defer(work),
    stateBackend() {
      let b = stateBackends.get(backendName);
      if (b === undefined) {
        b = config.createStateBackend(backendName);
        stateBackends.set(backendName, b);
      }
      return b;
    },
    scheduleProcessingTime: (at, callback) => bind.task!.schedule(at, callback),
  };
}

/** A user function's throw as the error a reader needs: which step, which function, which record. */
function asStepError(error: unknown, node: StepNode, record: unknown, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : `the value ${describeRecord(error, 80)}`;
  return new SluiceError(
    'USER_FUNCTION_FAILED',
    `step '${node.uid}' (${node.kind}): the ${what} threw ${reason} on record ${describeRecord(record)}`,
    { step: node.uid, cause: error },
  );
}

function badRecord(
  node: StepNode,
  config: RuntimeConfig,
  deadLetters: DeadLetterOutput | undefined,
  raw: string | Uint8Array,
  error: unknown,
  position: string,
  metrics: StepMetrics | undefined,
): void {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const reason = error instanceof Error ? error.message : String(error);
  const e = new SluiceError('BAD_RECORD', `step '${node.uid}' (${node.source?.kind} source): bad input at ${position}: ${reason}`, {
    step: node.uid,
    detail: `input: ${describeRecord(text)}`,
    cause: error,
  });
  const policy = node.onError ?? config.onError;
  if (metrics) metrics.errors++;
  if (policy === 'fail' || !deadLetters) throw e;
  if (metrics) metrics.deadLettered++;
  deadLetters.push({ step: node.uid, record: text, error: { code: e.code, message: e.message.split('\n')[0]! }, position });
}

/** The dead-letter source ends once every task that could still send to it has finished. */
function endDeadLettersWhenDone(graph: JobGraph, plan: PhysicalPlan, tasks: readonly Task[], deadLetters: DeadLetterQueue): void {
  void deadLetterSendersConsumed(graph, plan, tasks, deadLetters).then(() => deadLetters.end());
}

/**
 * Resolves once every task here that could still send dead letters has handled all its
 * input. Not the tasks' ends: with checkpoints, a task ends only after the job's final
 * checkpoint, which waits for the dead-letter consumers, which wait for this.
 */
export function deadLetterSendersConsumed(graph: JobGraph, plan: PhysicalPlan, tasks: readonly Task[], deadLetters: DeadLetterOutput): Promise<unknown> {
  const downstream = chainsFedBy(graph, plan.chainOf, deadLetters);
  return Promise.all(tasks.filter((t) => !downstream.has(plan.chainOf(t.head!))).map((t) => t.consumed));
}

/** The chains that the dead-letter source feeds, directly or through other steps. */
function chainsFedBy(graph: JobGraph, chainOf: (n: StepNode) => Chain, deadLetters: DeadLetterOutput): Set<Chain> {
  const dlNode = graph.nodes.find((n) => n.source === deadLetters.source);
  const downstream = new Set<Chain>();
  if (dlNode) {
    const stack = [dlNode];
    while (stack.length > 0) {
      const n = stack.pop()!;
      downstream.add(chainOf(n));
      for (const { to } of graph.consumersOf(n)) stack.push(to);
    }
  }
  return downstream;
}
