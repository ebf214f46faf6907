/**
 * A cluster member's stream threads (`--cluster` with `--parallelism N`): what the process
 * refuses, and how it adds its threads' figures up. Threads running for real, on the real
 * broker, are in `members.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { Job, fromCollection } from '../../src/index.js';
import { processFigures, threadMemberName } from '../../src/launch/cluster-threads.js';
import type { ClusterFigures } from '../../src/observe/cluster-figures.js';

const restored = (n: number) => ({ restores: n, tasks: n, local: n - 1, entries: 10 * n, bytes: 100 * n, ms: n });

describe('cluster stream threads', () => {
  it('refuses parallelism above 1 for a job it cannot load in a thread, before it touches Kafka', () => {
    const job = new Job({ name: 'no-module' });
    job.source(fromCollection([1]), { uid: 'numbers' }).print();
    expect(() => job.start({ cluster: { name: 'c', brokers: '127.0.0.1:1' }, parallelism: 3 })).toThrow(/parallelism 3 runs 2 stream thread\(s\) that load the job from its module/);
  });

  it('names threads after the member (static membership per thread), and leaves unnamed ones unnamed', () => {
    expect(threadMemberName('m1', 2)).toBe('m1-t2');
    expect(threadMemberName(undefined, 2)).toBeUndefined();
  });

  it("adds up its threads' figures: every task, rebalances, restores; the longest last rebalance", () => {
    const a: ClusterFigures = { member: 'm', tasks: [{ topic: 'in', partition: 2, role: 'source' }], rebalances: 1, lastRebalanceMs: 40, restoring: false, restored: restored(1), standbys: [1, 3] };
    const b: ClusterFigures = { member: 'm-t1', tasks: [{ topic: 'in', partition: 1, role: 'source' }, { topic: 'c-x-repartition', partition: 1, role: 'repartition' }], rebalances: 2, lastRebalanceMs: 90, restoring: true, restored: restored(2), standbys: [0, 3] };
    expect(processFigures([a, undefined, b])).toEqual({
      member: 'm',
      threads: ['m', 'm-t1'],
      tasks: [{ topic: 'c-x-repartition', partition: 1, role: 'repartition' }, { topic: 'in', partition: 1, role: 'source' }, { topic: 'in', partition: 2, role: 'source' }],
      rebalances: 3,
      lastRebalanceMs: 90,
      restoring: true,
      restored: { ...restored(3), local: 1 },
      standbys: [0, 1, 3],
    });
    expect(processFigures([undefined, undefined])).toBeUndefined();
  });
});
