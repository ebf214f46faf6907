import type { JobGraph } from '../plan/graph.js';
import { buildPhysicalPlan } from '../plan/physical.js';

/** The plan as JSON: tasks (chains) with their steps, and the edges between steps. */
export interface PlanJson {
  readonly tasks: Array<{ id: string; steps: Array<{ uid: string; kind: string; description: string; stateful: boolean }> }>;
  readonly edges: Array<{ from: string; to: string; fromTask: string; toTask: string; partitioner: string; tag?: string; chained: boolean }>;
}

/** Describes a job's graph the way `explain()` does, as data (`GET /jobs/:id`, the dashboard). */
export function planJson(graph: JobGraph): PlanJson {
  const plan = buildPhysicalPlan(graph);
  const taskOf = (n: (typeof graph.nodes)[number]) => plan.chainOf(n).nodes[0]!.uid;
  return {
    tasks: plan.chains.map((c) => ({
      id: c.nodes[0]!.uid,
      steps: c.nodes.map((n) => ({ uid: n.uid, kind: n.source ? 'source' : n.kind, description: n.description, stateful: n.stateful })),
    })),
    edges: graph.nodes.flatMap((to) =>
      to.inputs.map((e) => ({
        from: e.from.uid,
        to: to.uid,
        fromTask: taskOf(e.from),
        toTask: taskOf(to),
        partitioner: e.partitioner,
        ...(e.tag === undefined ? {} : { tag: e.tag }),
        chained: taskOf(e.from) === taskOf(to) && plan.isChained(to),
      })),
    ),
  };
}
