import type { Sink } from '../connectors/sink.js';
import type { Source } from '../connectors/source.js';
import type { ShedSpec } from '../core/load-shedding.js';
import type { Key } from '../state/types.js';
import { redactSecrets } from '../errors/index.js';

/**
 * How records move along an edge: `forward` keeps them in the producing subtask,
 * `hash` sends each to the subtask owning its key's key group, `rebalance` spreads them
 * round-robin, `broadcast` copies them to every subtask.
 */
export type Partitioner = 'forward' | 'hash' | 'rebalance' | 'broadcast';

/**
 * An edge of the logical plan: a stream (main or a side output) of one step into another.
 * It names its producer as a step of any operator type: an edge never makes operators.
 */
export interface StreamEdge {
  readonly from: StepNode;
  /** The side output's tag id; undefined for the main output. */
  readonly tag?: string | undefined;
  readonly partitioner: Partitioner;
  /** For `hash` edges: the key of a record. */
  readonly keySelector?: ((value: any) => Key) | undefined;
  /** Which input of the consuming step this feeds (0, or 1 for the second of a connect). */
  readonly input: number;
}

/**
 * A step of the logical plan. Nothing runs here: the runtime instantiates it. `Op` is what
 * `createOperator` makes: the plan sits below the runtime and never looks inside one
 * (the api and the runtime use `StepNode<Operator>`).
 */
export interface StepNode<Op = unknown> {
  readonly id: number;
  readonly uid: string;
  /** Whether the user gave the uid (stateful steps must). */
  readonly uidGiven: boolean;
  /** 'source', 'map', 'filter', 'process', 'sink', … */
  readonly kind: string;
  /** Whether the step keeps state that checkpoints must carry. */
  readonly stateful: boolean;
  readonly inputs: readonly StreamEdge[];
  /** One line for `job.explain()`, secrets redacted (see `redactSecrets`). */
  readonly description: string;
  /** The parallelism the step asked for; undefined: the job's (see `resolveParallelism`). */
  readonly parallelism?: number | undefined;
  /** Per-step error policy; the job's when undefined. */
  readonly onError?: 'fail' | 'dead-letter' | undefined;
  /** Set for sources. */
  readonly source?: Source<any> | undefined;
  /** A source's load shedding, when it has one. */
  readonly shed?: ShedSpec<any> | undefined;
  /** Set for sinks (the job checks the delivery guarantees they support). */
  readonly sink?: Sink<any> | undefined;
  /** Set for every other step. */
  readonly createOperator?: (() => Op) | undefined;
}

/** The logical plan: steps in the order they were added, which is a topological order. */
export class JobGraph<Op = unknown> {
  readonly nodes: StepNode<Op>[] = [];

  add(node: Omit<StepNode<Op>, 'id'>): StepNode<Op> {
    // Every rendering of the plan (explain(), the REST job view, the dashboard) reads the
    // description from here: a connector's URL password or token never reaches them
    // (test/api/explain-secrets.test.ts).
    const full: StepNode<Op> = Object.freeze({ ...node, description: redactSecrets(node.description), id: this.nodes.length });
    this.nodes.push(full);
    return full;
  }

  /** Whether `node` is a step of this graph (edges name their producer as a step of any operator type). */
  has(node: StepNode): boolean {
    return this.nodes.some((n) => n === node);
  }

  /** Edges leaving `node` (into any step), with their consumers. */
  consumersOf(node: StepNode): Array<{ edge: StreamEdge; to: StepNode<Op> }> {
    const out: Array<{ edge: StreamEdge; to: StepNode<Op> }> = [];
    for (const to of this.nodes) for (const edge of to.inputs) if (edge.from === node) out.push({ edge, to });
    return out;
  }
}
