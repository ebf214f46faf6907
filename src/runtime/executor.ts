import type { DeadLetter } from '../api/functions.js';
import type { SourceContext } from '../connectors/source.js';
import { SluiceError, describeRecord } from '../errors/index.js';
import type { StepNode } from '../plan/graph.js';
import { buildPhysicalPlan, canChain, type Chain } from '../plan/physical.js';
import type { JobGraph } from '../plan/graph.js';
import { keyGroupRange } from '../state/key-groups.js';
import type { KeyedStateBackend } from '../state/types.js';
import type { Clock } from '../time/clock.js';
import { hasTimestamp } from './batch.js';
import { LocalChannel } from './channel.js';
import { ChannelWriter } from './channel-writer.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { InputGate, type GateInput } from './input-gate.js';
import type { Operator, OperatorRuntime } from './operator.js';
import { OperatorOutputs, outputOf, type Output } from './output.js';
import { SourceTask, StreamTask, type Backpressure, type SourceStepState, type Task, type TaskCheckpointing } from './task.js';
import type { CheckpointConfig } from '../checkpoint/config.js';
import type { JobMetrics } from '../observe/job-metrics.js';
import { stepIn, type BatchContext, type StepMetrics } from '../observe/step-metrics.js';
import { MeteredOutput } from './metered-output.js';
import { CheckpointCoordinator, type CheckpointStats } from '../checkpoint/coordinator.js';
import type { CheckpointData, CheckpointStorage } from '../checkpoint/types.js';

/** The settings a job runs with (see `JobOptions` for their meaning and defaults). */
export interface RuntimeConfig {
  readonly jobName: string;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly channelCapacity: number;
  readonly maxPollWaitMs: number;
  readonly maxParallelism: number;
  readonly onError: 'fail' | 'dead-letter';
  readonly clock: Clock;
  readonly createStateBackend: (uid: string) => KeyedStateBackend;
  /** Exactly-once with checkpoints: transactional sinks publish only on commit. */
  readonly exactlyOnce: boolean;
  /** Counters to add to (undefined: the job counts nothing, `metrics: false`). */
  readonly metrics?: JobMetrics | undefined;
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
class ChainedInput<T> implements Output<T> {
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

/**
 * Turns a logical plan into running tasks in this process: chains of operators, bounded
 * channels between chains, one task per chain. Parallelism across threads builds on this.
 */
export function execute(graph: JobGraph, config: RuntimeConfig, deadLetters?: DeadLetterQueue, options: ExecuteOptions = {}): RunningJob {
  const plan = buildPhysicalPlan(graph);
  const operators = new Map<StepNode, Operator<any, any>>();
  for (const node of graph.nodes) if (node.createOperator) operators.set(node, node.createOperator());
  const restored = options.restore?.steps ?? {};
  const metrics = config.metrics;
  metrics?.beginAttempt();
  const stepMetrics = new Map<StepNode, StepMetrics>();
  if (metrics) {
    for (const node of graph.nodes) {
      const m = metrics.step(node.uid, node.source ? 'source' : node.kind, plan.chainOf(node).nodes[0]!.uid);
      m.attach(operators.get(node));
      stepMetrics.set(node, m);
    }
  }

  const writersOf = new Map<Chain, ChannelWriter<unknown>[]>();
  const gateInputsOf = new Map<Chain, GateInput[]>();
  const channels: LocalChannel<unknown>[] = [];
  for (const chain of plan.chains) {
    writersOf.set(chain, []);
    gateInputsOf.set(chain, []);
  }

  // Outputs of every step: chained consumers are called directly, others get a channel.
  const outputsOf = new Map<StepNode, OperatorOutputs<unknown>>();
  for (const node of graph.nodes) {
    const chain = plan.chainOf(node);
    const byTag = new Map<string | undefined, Output<unknown>[]>();
    for (const { edge, to } of graph.consumersOf(node)) {
      let target: Output<unknown>;
      if (plan.chainOf(to) === chain && canChain(to)) {
        target = new ChainedInput(operators.get(to)!, metrics && { step: stepMetrics.get(to)!, context: metrics.context });
      } else {
        const channel = new LocalChannel<unknown>(config.channelCapacity);
        channels.push(channel);
        const writer = new ChannelWriter(channel, config.batchSize, config.flushIntervalMs, config.clock);
        writer.context = metrics?.context;
        metrics?.addChannel(node.uid, to.uid, channel);
        writersOf.get(chain)!.push(writer);
        gateInputsOf.get(plan.chainOf(to))!.push({ channel, input: edge.input });
        target = writer;
      }
      const list = byTag.get(edge.tag) ?? [];
      list.push(target);
      byTag.set(edge.tag, list);
    }
    const sides = new Map<string, Output<unknown>>();
    const sm = stepMetrics.get(node);
    for (const [tag, list] of byTag) if (tag !== undefined) sides.set(tag, sm ? new MeteredOutput(outputOf(list), sm, false) : outputOf(list));
    const main = outputOf(byTag.get(undefined) ?? []);
    outputsOf.set(node, new OperatorOutputs(sm ? new MeteredOutput(main, sm, node.source !== undefined) : main, sides));
  }

  const abort = new AbortController();
  const tasks: Task[] = [];
  const taskOf = new Map<Chain, Task>();
  const sourceTasks: SourceTask<unknown>[] = [];
  const stateBackends = new Map<string, KeyedStateBackend>();
  let failure: unknown;
  let cancelled = false;
  const onFailure = (error: unknown) => {
    if (failure === undefined && !cancelled) failure = error;
    abort.abort();
    coordinator?.stop();
    for (const t of tasks) t.stop();
  };
  const backpressure: Backpressure[] = deadLetters ? [deadLetters] : [];
  // Tasks that consume dead letters make room in the queue: they must not wait for room in
  // it, or they and a task that fills it would wait for each other (see errors.test.ts).
  const deadLetterConsumers = deadLetters ? chainsFedBy(graph, plan.chainOf, deadLetters) : new Set<Chain>();

  for (const chain of plan.chains) {
    let task: Task;
    const ops = chain.nodes.filter((n) => n.createOperator).map((n) => operators.get(n)!);
    const writers = writersOf.get(chain)!;
    const head = chain.nodes[0]!;
    const waitsFor = deadLetterConsumers.has(chain) ? [] : backpressure;
    // Operators are set up before the task exists; they reach it through this late binding.
    const bind: { task?: Task } = {};
    for (const node of chain.nodes) {
      const op = operators.get(node);
      if (!op) continue;
      op.setup(operatorRuntime(node, config, bind, stateBackends, deadLetters, stepMetrics.get(node)), outputsOf.get(node)!);
      const state = restored[node.uid];
      if (state !== undefined) op.initializeState(state.state);
    }
    if (head.source) {
      const source = head.source;
      const ctx: SourceContext = {
        uid: head.uid,
        clock: config.clock,
        maxBatchSize: config.batchSize,
        maxPollWaitMs: config.maxPollWaitMs,
        signal: abort.signal,
        badRecord: (raw, error, position) => badRecord(head, config, deadLetters, raw, error, position, stepMetrics.get(head)),
        restoredPosition: (restored[head.uid]?.state as SourceStepState | undefined)?.position,
      };
      const sourceTask = new SourceTask(head.uid, source, () => source.createReader(ctx), outputsOf.get(head)!, ops, writers, config.clock, waitsFor, onFailure);
      sourceTask.restoredFinished = (restored[head.uid]?.state as SourceStepState | undefined)?.finished === true;
      sourceTasks.push(sourceTask);
      task = sourceTask;
    } else {
      const gate = new InputGate(gateInputsOf.get(chain)!);
      task = new StreamTask(head.uid, gate, ops, writers, config.clock, waitsFor, onFailure);
    }
    bind.task = task;
    task.metrics = metrics?.task(head.uid, chain.nodes.map((n) => stepMetrics.get(n)!));
    tasks.push(task);
    taskOf.set(chain, task);
  }

  let coordinator: CheckpointCoordinator | undefined;
  if (options.checkpoints) {
    const { config: cc, storage, onEvent } = options.checkpoints;
    const c = new CheckpointCoordinator(
      config.jobName,
      cc,
      storage,
      config.clock,
      {
        taskCount: tasks.length,
        injectBarrier: (id) => {
          for (const t of sourceTasks) t.injectBarrier(id);
        },
        notifyComplete: (id) => {
          for (const t of tasks) t.notifyCheckpointComplete(id);
        },
      },
      options.restore?.checkpointId ?? 0,
      onEvent,
    );
    coordinator = c;
    const checkpointing: TaskCheckpointing = {
      acknowledge: (id, task, steps, alignmentMs) => c.acknowledge(id, task, steps, alignmentMs),
      finished: (task, steps) => c.taskFinished(task, steps),
    };
    for (const t of tasks) t.checkpointing = checkpointing;
  }

  const runs = tasks.map((t) => t.run());
  coordinator?.start();
  if (deadLetters) endDeadLettersWhenDone(graph, plan.chains, plan.chainOf, taskOf, deadLetters);

  const done = Promise.allSettled(runs).then((): JobResult => {
    coordinator?.stop();
    for (const c of channels) c.release();
    if (failure !== undefined) throw failure;
    return { status: cancelled ? 'cancelled' : 'finished' };
  });
  return {
    done,
    cancel: () => {
      if (failure !== undefined) return;
      cancelled = true;
      abort.abort();
      for (const t of tasks) t.stop();
    },
    stateBackends,
    channels,
    coordinator,
  };
}

function operatorRuntime(
  node: StepNode,
  config: RuntimeConfig,
  bind: { task?: Task },
  stateBackends: Map<string, KeyedStateBackend>,
  deadLetters: DeadLetterQueue | undefined,
  metrics: StepMetrics | undefined,
): OperatorRuntime {
  const policy = node.onError ?? config.onError;
  return {
    uid: node.uid,
    kind: node.kind,
    clock: config.clock,
    maxParallelism: config.maxParallelism,
    subtask: { index: 0, parallelism: 1, keyGroups: keyGroupRange(0, 1, config.maxParallelism) },
    exactlyOnce: config.exactlyOnce,
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
      let b = stateBackends.get(node.uid);
      if (b === undefined) {
        b = config.createStateBackend(node.uid);
        stateBackends.set(node.uid, b);
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
  deadLetters: DeadLetterQueue | undefined,
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
function endDeadLettersWhenDone(
  graph: JobGraph,
  chains: Chain[],
  chainOf: (n: StepNode) => Chain,
  taskOf: Map<Chain, Task>,
  deadLetters: DeadLetterQueue,
): void {
  const downstream = chainsFedBy(graph, chainOf, deadLetters);
  // Not the tasks' ends: with checkpoints, a task ends only after the job's final
  // checkpoint, which waits for the dead-letter consumers, which wait for this.
  const upstream = chains.filter((c) => !downstream.has(c)).map((c) => taskOf.get(c)!.consumed);
  void Promise.all(upstream).then(() => deadLetters.end());
}

/** The chains that the dead-letter source feeds, directly or through other steps. */
function chainsFedBy(graph: JobGraph, chainOf: (n: StepNode) => Chain, deadLetters: DeadLetterQueue): Set<Chain> {
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
