import { createHash } from 'node:crypto';
import type { JobGraph } from '../plan/graph.js';
import { INTERNAL_TOPICS_FORMAT } from './repartition-codec.js';

/**
 * The fingerprint of a job's graph in cluster mode: a SHA-256 over its steps (uid, kind,
 * statefulness, in order), its edges (producer uid, side-output tag, partitioner, input)
 * and what decides where a key lives (max parallelism, the cluster's partition count),
 * and the layout of the records of the internal topics (`INTERNAL_TOPICS_FORMAT`).
 * Two members compare it through `<cluster>-meta`: a different fingerprint is a different
 * job, whose records and state would be mixed with this one's. User functions are not
 * part of it (code changes that keep the graph are upgrades, as with savepoints).
 */
export function jobFingerprint(graph: JobGraph<unknown>, layout: { maxParallelism: number; partitions: number }, format = INTERNAL_TOPICS_FORMAT): string {
  const steps = graph.nodes.map((n) => ({
    uid: n.uid,
    kind: n.kind,
    stateful: n.stateful,
    inputs: n.inputs.map((e) => ({ from: e.from.uid, tag: e.tag ?? null, partitioner: e.partitioner, input: e.input })),
  }));
  return createHash('sha256').update(JSON.stringify({ v: 1, format, steps, ...layout })).digest('hex');
}
