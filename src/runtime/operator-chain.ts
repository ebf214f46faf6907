import { partsOf } from '../checkpoint/step-parts.js';
import type { StepState } from '../checkpoint/types.js';
import type { StepMetrics } from '../observe/step-metrics.js';
import type { StepNode } from '../plan/graph.js';
import { subtaskName, type Route, type SubtaskNode } from '../plan/physical-graph.js';
import { keyGroupRange } from '../state/key-groups.js';
import type { KeyedStateBackend } from '../state/types.js';
import { ChainedOutput } from './chained-output.js';
import { FusedOutput, type FusedStage, type FusibleStep } from './fused-output.js';
import type { ChannelSender } from './channel.js';
import { ChannelOutput, type ChannelOutputFailures } from './channel-output.js';
import type { RuntimeConfig } from './config.js';
import { cloneableLetter, type DeadLetter, type DeadLetterOutput } from './dead-letter-queue.js';
import { partitionerFor } from './exchange/partitioners.js';
import { MeteredOutput } from './metered-output.js';
import type { Operator, OperatorRuntime, SubtaskInfo } from './operator.js';
import type { StepStamp } from './watchdog/step-stamps.js';
import { OperatorOutputs, outputOf, type Output } from './output.js';
import { badRecord, refusedRecord, userError, type StepErrors } from './step-errors.js';

/** What a chain is built from: the subtask it runs, and what its operators are given. */
export interface ChainSpec {
  readonly node: SubtaskNode<Operator>;
  readonly config: RuntimeConfig;
  /** Sending ends of this thread's channels, by channel id: those of `node.outputs` are all here. */
  readonly senders: readonly (ChannelSender<unknown> | undefined)[];
  /** The counters of the chain's steps, head first; undefined when the job counts nothing. */
  readonly stepMetrics: readonly StepMetrics[] | undefined;
  /** The checkpoint's state, by step uid (empty without a restore). */
  readonly restored: Readonly<Record<string, StepState>>;
  readonly deadLetters: DeadLetterOutput | undefined;
  /** The keyed state backends of this thread's tasks, by subtask name: made on first use. */
  readonly stateBackends: Map<string, KeyedStateBackend>;
}

/** What the operators of a chain ask of the task that runs them. */
export interface ChainTask {
  /** Work the task finishes before it takes its next input. */
  defer(work: Promise<unknown>): void;
  /** Work the acknowledgement of the checkpoint being taken waits for (not the task's input). */
  ackAfter(work: Promise<unknown>): void;
  /** A clock callback run inside the task, for step `step` of the chain (its position); returns its cancel. */
  schedule(at: number, callback: () => void, step: number): () => void;
  /** Runs a callback inside the task for step `step` (never between a snapshot and its barrier). */
  runInTask(callback: () => void, step: number): void;
  /** What the task stamps for the watchdog: chained steps stamp which of them is called. */
  readonly stamp: StepStamp;
  /** Fails the task (a failure outside its own calls: a flush timer's). */
  fail(error: unknown): void;
}

/**
 * The operators of one subtask of a chain, wired together (as Flink's OperatorChain): a
 * step's records go to the next step of the chain by a direct call ({@link ChainedOutput}),
 * and to other chains through a partitioner over one {@link ChannelOutput} per consuming
 * subtask. Operators are set up with their runtime and given their restored state; the
 * task opens them.
 */
export class OperatorChain {
  /** Which subtask of its chain this is, as its operators see it. */
  readonly subtask: SubtaskInfo;
  /** Head first; a source chain's head is its source, which has none. */
  readonly operators: readonly Operator[];
  /** What the chain's first step emits into: a source task sends what its reader reads here. */
  readonly headOutputs: OperatorOutputs<unknown>;
  /** Outputs into this subtask's channels, in `node.outputs` order. */
  readonly channelOutputs: readonly ChannelOutput<unknown>[];
  /** The position in the chain (`node.chain.nodes`) of each of {@link operators}. */
  readonly positions: readonly number[];

  constructor(
    private readonly spec: ChainSpec,
    task: ChainTask,
  ) {
    const { node, config, stepMetrics } = spec;
    const steps = node.chain.nodes;
    this.subtask = { index: node.index, parallelism: node.chain.parallelism, keyGroups: keyGroupRange(node.index, node.chain.parallelism, config.maxParallelism) };
    const operators = steps.map((step) => step.createOperator?.());
    if (stepMetrics) steps.forEach((_, k) => stepMetrics[k]!.attach(operators[k]));
    const channelOutputs: ChannelOutput<unknown>[] = [];
    const outputs = steps.map((step, k) => this.outputsOf(step, k, node.routes[k]!, operators, channelOutputs, task, stepMetrics?.[k]));
    this.stepOutputs = outputs;
    steps.forEach((step, k) => {
      const operator = operators[k];
      if (operator === undefined) return;
      operator.setup(this.operatorRuntime(step, k, task, stepMetrics?.[k]), outputs[k]!);
      const restored = spec.restored[step.uid];
      if (restored !== undefined) restoreOperator(operator, restored, this.subtask);
    });
    this.operators = operators.filter((operator) => operator !== undefined);
    this.positions = operators.flatMap((operator, k) => (operator === undefined ? [] : [k]));
    this.headOutputs = outputs[0]!;
    this.channelOutputs = channelOutputs;
  }

  /** Every step's outputs, by chain position (what a fused run emits into). */
  private stepOutputs: readonly OperatorOutputs<unknown>[] = [];

  /**
   * The stateless steps (map, filter, flatMap) from position `k` on that run as one
   * function per record ({@link FusedOutput}): while a step is one of them and sends its
   * main stream only, chained, to the next. Undefined for fewer than two.
   */
  private fusedRun(k: number, operators: readonly (Operator | undefined)[]): FusedStage[] | undefined {
    const { node, stepMetrics } = this.spec;
    const steps = node.chain.nodes;
    const stages: FusedStage[] = [];
    for (let j: number | undefined = k; j !== undefined; ) {
      const op = operators[j];
      if (op === undefined || !('fusion' in op)) break;
      const errors = this.errorsOf(steps[j]!, stepMetrics?.[j]);
      stages.push({ step: op as unknown as FusibleStep, position: j, metrics: stepMetrics?.[j], userError: (e, record, ts, what) => userError(errors, e, record, ts, what) });
      const routes: readonly Route<Operator>[] = node.routes[j]!;
      const only: Route<Operator> | undefined = routes.length === 1 && routes[0]!.chained && routes[0]!.edge.tag === undefined ? routes[0]! : undefined;
      j = only === undefined ? undefined : steps.indexOf(only.to);
    }
    return stages.length >= 2 ? stages : undefined;
  }

  /** The fused output of `run`; undefined where code cannot be compiled (`--disallow-code-generation-from-strings`): its steps then run one by one. */
  private fused(chained: Output<unknown>, run: FusedStage[], task: ChainTask, from: number): Output<unknown> | undefined {
    const last = run[run.length - 1]!.position;
    try {
      return new FusedOutput(chained, run, () => this.stepOutputs[last]!.main, task.stamp, from, this.spec.config.metrics?.context);
    } catch (e) {
      if (e instanceof EvalError) return undefined;
      throw e;
    }
  }

  /** How a step at the head of a source chain handles input it cannot decode (see `SourceContext.badRecord`). */
  badRecordHandler(): (raw: string | Uint8Array, error: unknown, position: string) => void {
    const errors = this.errorsOf(this.spec.node.chain.nodes[0]!, this.spec.stepMetrics?.[0]);
    return (raw, error, position) => badRecord(errors, raw, error, position);
  }

  /** A step's outputs: its main stream and side outputs, each to every consumer of it. */
  private outputsOf(
    step: StepNode,
    /** The step's position in the chain. */
    position: number,
    routes: readonly Route<Operator>[],
    operators: readonly (Operator | undefined)[],
    channelOutputs: ChannelOutput<unknown>[],
    task: ChainTask,
    metrics: StepMetrics | undefined,
  ): OperatorOutputs<unknown> {
    const { config, stepMetrics, senders } = this.spec;
    const steps = this.spec.node.chain.nodes;
    const context = config.metrics?.context;
    const byTag = new Map<string | undefined, Output<unknown>[]>();
    const errors = this.errorsOf(step, metrics);
    // A record the channel refuses is this step's failure; so is what its flush timer
    // throws. The dead-letter stream's own source sends a copy of the letter instead: it
    // often holds what could not cross (see `worker-failures.test.ts`).
    const lettersSource = step.source !== undefined && step.source === this.spec.deadLetters?.source;
    const failures: ChannelOutputFailures = {
      fail: (error) => task.fail(error),
      refused: (error, record, timestamp) => {
        if (lettersSource) return { instead: cloneableLetter(record as DeadLetter) };
        refusedRecord(errors, error, record, timestamp);
        return undefined;
      },
    };
    for (const route of routes) {
      let target: Output<unknown>;
      if (route.chained) {
        const k = steps.indexOf(route.to);
        target = new ChainedOutput(operators[k]!, task.stamp, k, position, context && { step: stepMetrics![k]!, context });
        const run = this.fusedRun(k, operators);
        if (run !== undefined) target = this.fused(target, run, task, position) ?? target;
      } else {
        const targets = route.channels.map((channel) => new ChannelOutput(senders[channel.id]!, config.batchSize, config.flushIntervalMs, config.clock, context, failures));
        channelOutputs.push(...targets);
        target = partitionerFor(route.partitioner, targets, route.edge.keySelector, config.maxParallelism);
      }
      const list = byTag.get(route.edge.tag) ?? [];
      list.push(target);
      byTag.set(route.edge.tag, list);
    }
    const sides = new Map<string, Output<unknown>>();
    for (const [tag, list] of byTag) if (tag !== undefined) sides.set(tag, metrics ? new MeteredOutput(outputOf(list), metrics, false) : outputOf(list));
    const main = outputOf(byTag.get(undefined) ?? []);
    return new OperatorOutputs(metrics ? new MeteredOutput(main, metrics, step.source !== undefined) : main, sides);
  }

  private operatorRuntime(step: StepNode, position: number, task: ChainTask, metrics: StepMetrics | undefined): OperatorRuntime {
    const { config, stateBackends } = this.spec;
    const subtask = this.subtask;
    const errors = this.errorsOf(step, metrics);
    // Names the subtask's state backend and its checkpoint files: the uid, with `#index` in parallel.
    const backendName = subtaskName(step.uid, subtask.index, subtask.parallelism);
    return {
      uid: step.uid,
      kind: step.kind,
      clock: config.clock,
      maxParallelism: config.maxParallelism,
      subtask,
      exactlyOnce: config.exactlyOnce,
      executionId: config.executionId,
      sharedStateDir: config.sharedStateDir?.(backendName),
      userError: (error, record, timestamp, what) => userError(errors, error, record, timestamp, what),
      defer: (work) => task.defer(work),
      ackAfter: (work) => task.ackAfter(work),
      stateBackend() {
        let backend = stateBackends.get(backendName);
        if (backend === undefined) {
          backend = config.createStateBackend(backendName);
          stateBackends.set(backendName, backend);
        }
        return backend;
      },
      scheduleProcessingTime: (at, callback) => task.schedule(at, callback, position),
      runInTask: (callback) => task.runInTask(callback, position),
    };
  }

  private errorsOf(step: StepNode, metrics: StepMetrics | undefined): StepErrors {
    return { step, policy: step.onError ?? this.spec.config.onError, deadLetters: this.spec.deadLetters, metrics };
  }
}

/** Gives an operator its state from a checkpoint: its own subtask's, or every old subtask's when the parallelism changed. */
function restoreOperator(operator: Operator, step: StepState, subtask: SubtaskInfo): void {
  const parts = partsOf(step);
  if (parts.length === subtask.parallelism) {
    const own = parts[subtask.index];
    if (own !== undefined) operator.initializeState(own);
  } else operator.initializeStateParts(parts);
}
