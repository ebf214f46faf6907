import { describe, expect, it } from 'vitest';
import type { Source } from '../../src/connectors/source.js';
import { JobGraph, type StepNode, type StreamEdge } from '../../src/plan/graph.js';
import { buildPhysicalGraph } from '../../src/plan/physical-graph.js';
import { buildPhysicalPlan } from '../../src/plan/physical.js';

const source = { kind: 'test', parallel: true } as unknown as Source<unknown>;

/** source (p=2) -> map (chained) -> keyBy -> count (p=3) -> sink (chained), and a side output of the map to a log (p=1). */
function job(): { graph: JobGraph<string>; steps: Record<string, StepNode<string>> } {
  const graph = new JobGraph<string>();
  const step = (uid: string, inputs: StreamEdge[], extra: Partial<StepNode<string>> = {}) =>
    graph.add({ uid, uidGiven: true, kind: uid, stateful: false, inputs, description: '', createOperator: () => uid, ...extra });
  const edge = (from: StepNode, partitioner: StreamEdge['partitioner'] = 'forward', tag?: string): StreamEdge => ({ from, partitioner, input: 0, tag });
  const read = step('read', [], { source, createOperator: undefined, parallelism: 2 });
  const parse = step('parse', [edge(read)], { parallelism: 2 });
  const count = step('count', [edge(parse, 'hash')], { parallelism: 3 });
  const write = step('write', [edge(count)], { parallelism: 3 });
  const log = step('log', [edge(parse, 'forward', 'bad')], { parallelism: 1 });
  return { graph, steps: { read, parse, count, write, log } };
}

describe('buildPhysicalGraph', () => {
  it('expands chains into subtasks, chain by chain, named by head and index', () => {
    const { graph } = job();
    const physical = buildPhysicalGraph(graph, buildPhysicalPlan(graph));
    expect(physical.nodes.map((n) => n.name)).toEqual(['read#0', 'read#1', 'count#0', 'count#1', 'count#2', 'log']);
    expect(physical.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('numbers channels by producing step, subtask, consuming edge and consuming subtask', () => {
    const { graph } = job();
    const physical = buildPhysicalGraph(graph, buildPhysicalPlan(graph));
    const described = physical.edges.map((c) => `${c.id}: ${c.from.node.uid}#${c.from.subtask} -> ${c.to.node.uid}#${c.to.subtask}`);
    expect(described).toEqual([
      '0: parse#0 -> count#0',
      '1: parse#0 -> count#1',
      '2: parse#0 -> count#2',
      '3: parse#0 -> log#0',
      '4: parse#1 -> count#0',
      '5: parse#1 -> count#1',
      '6: parse#1 -> count#2',
      '7: parse#1 -> log#0',
    ]);
    const [read0, , count0, , , log] = physical.nodes;
    expect(read0!.outputs.map((c) => c.id)).toEqual([0, 1, 2, 3]);
    expect(count0!.inputs.map((c) => c.id)).toEqual([0, 4]);
    expect(log!.inputs.map((c) => c.id)).toEqual([3, 7]);
  });

  it('routes each step of a subtask: chained to the next step, or through channels with the edge’s partitioner', () => {
    const { graph, steps } = job();
    const physical = buildPhysicalGraph(graph, buildPhysicalPlan(graph));
    const read1 = physical.nodes[1]!;
    const [fromRead, fromParse] = read1.routes;
    expect(fromRead!.map((r) => [r.to.uid, r.chained])).toEqual([['parse', true]]);
    expect(fromParse!.map((r) => [r.to.uid, r.chained, r.partitioner, r.channels.map((c) => c.id)])).toEqual([
      ['count', false, 'hash', [4, 5, 6]],
      ['log', false, 'rebalance', [7]],
    ]);
    expect(physical.subtaskOf(physical.plan.chainOf(steps.write!), 2).name).toBe('count#2');
  });
});
