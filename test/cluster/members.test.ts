/**
 * Cluster mode end to end: three real `sluice run --cluster` processes on the real broker
 * run a keyed event-time window count whose key (user) differs from the input topic's
 * partitioning (page); the output topic holds the same results as a single-process run
 * of the same input.
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKERS, freshTopic, produce, readCommitted } from '../connectors/kafka/helpers.js';
import { startSluice, until, type SluiceProcess } from '../cli/processes.js';
import { buildWindowCount, type Click } from './fixtures/window-count.js';

const JOB = new URL('./fixtures/window-count.ts', import.meta.url).pathname;
const PARTITIONS = 4;
const FLUSH = '~flush';

/** Seeded clicks: per page (partition page % 4) in event-time order, then one far-future click per partition so every window before it closes. */
function clicks(seed: number, withData: readonly number[] = [0, 1, 2, 3]): Array<{ value: string; partition: number }> {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: Array<{ value: string; partition: number }> = [];
  for (const partition of withData) {
    let at = Math.floor(next() * 1000);
    for (let i = 0; i < 150; i++) {
      at += Math.floor(next() * 400);
      const page = `page-${partition + PARTITIONS * Math.floor(next() * 2)}`;
      const c: Click = { user: `user-${Math.floor(next() * 25)}`, page, at };
      out.push({ value: JSON.stringify(c), partition });
    }
    out.push({ value: JSON.stringify({ user: FLUSH, page: `page-${partition}`, at: 1e9 } satisfies Click), partition });
  }
  return out;
}

async function groupsStable(groups: string[], members: number): Promise<boolean> {
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
  try {
    const described = await admin.describeGroups({ groups });
    return groups.every((g) => described.get(g)?.state === 'STABLE' && described.get(g)?.members.size === members);
  } catch {
    return false;
  } finally {
    await admin.close();
  }
}

/** The window counts computed as a batch: per user and 10 s window, the clicks in it (the flush user left out). */
function batchCount(records: Array<{ value: string }>): string[] {
  const counts = new Map<string, number>();
  for (const r of records) {
    const c = JSON.parse(r.value) as Click;
    if (c.user === FLUSH) continue;
    const key = `${c.user}|${Math.floor(c.at / 10_000) * 10_000}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}|${n}`);
}

const running: SluiceProcess[] = [];
afterEach(async () => {
  // SIGTERM: a member cancels its job, leaves its groups and removes its local checkpoints.
  for (const p of running) p.child.kill('SIGTERM');
  for (const p of running.splice(0)) {
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await p.exited;
    clearTimeout(timer);
  }
});

describe('cluster members (real broker, real processes)', () => {
  // retry: a rebalance that races the first records doubles them (at-least-once in this
  // first slice, see src/cluster/index.ts); a retry runs on fresh topics and a fresh cluster.
  it('three members compute a keyed event-time window count equal to a single-process run', { retry: 1, timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const referenceOut = await freshTopic('cluster-ref', 1);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const groupId = `${cluster}-clicks`;
    const seed = Date.now() % 100_000;
    console.log(`cluster members test: seed ${seed}`);

    const args = JSON.stringify({ input, output: clusterOut, groupId });
    for (let i = 0; i < 3; i++) {
      running.push(startSluice(['run', JOB, '--cluster', cluster, '--kafka', BROKERS.join(','), '--no-server', '--no-progress', '--log-level', 'warn', '--', args]));
    }
    // Input only once all three are in both groups: keyed state does not move yet (no changelog).
    await until(async () => ((await groupsStable([groupId, cluster], 3)) ? true : undefined), 90_000, () => running.map((p) => p.stderr()).join('\n---\n'));
    // A group reported stable may still have a member fetching with its previous assignment
    // (seen: two members reading the same source partitions, every record of them doubled):
    // let it settle. Rebalances while records flow are at-least-once in this slice.
    await new Promise((r) => setTimeout(r, 5000));
    await until(async () => ((await groupsStable([groupId, cluster], 3)) ? true : undefined), 90_000, () => 'groups not stable');

    const records = clicks(seed);
    await produce(input, records);
    await buildWindowCount({ input, output: referenceOut, groupId: `${cluster}-reference`, bounded: true }).run();
    const reference = (await readCommitted(referenceOut, 1)).map((m) => m.value.toString()).filter((l) => !l.startsWith(FLUSH));
    expect(reference.length).toBeGreaterThan(50);
    expect([...reference].sort()).toEqual(batchCount(records).sort()); // the reference itself is right

    const fromCluster = (await readCommitted(clusterOut, reference.length, 3000, 90_000)).map((m) => m.value.toString());
    expect(fromCluster.filter((l) => l.startsWith(FLUSH))).toEqual([]); // its window never closes in an unbounded run
    if (fromCluster.length !== reference.length) {
      const missing = reference.filter((l) => !fromCluster.includes(l));
      const extra = fromCluster.filter((l) => !reference.includes(l));
      console.error(`cluster ${fromCluster.length} vs reference ${reference.length}; missing ${missing.length}: ${missing.slice(0, 10)}; extra ${extra.length}: ${extra.slice(0, 10)}`);
      for (const p of running) console.error(`member stderr:\n${p.stderr().slice(-3000)}`);
    }
    expect([...fromCluster].sort()).toEqual([...reference].sort());
    for (const p of running) expect(p.child.exitCode).toBeNull(); // all three still members
  });

  it('a member refuses to start when an internal topic has another partition count, and says which', async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
    try {
      await admin.createTopics({ topics: [`${cluster}-clicks-per-user-repartition`], partitions: 2, replicas: 1 });
    } finally {
      await admin.close();
    }
    const args = JSON.stringify({ input, output: input, groupId: `${cluster}-clicks` });
    const member = startSluice(['run', JOB, '--cluster', cluster, '--kafka', BROKERS.join(','), '--no-server', '--no-progress', '--log-level', 'warn', '--', args]);
    running.push(member);
    expect(await member.exited).not.toBe(0);
    expect(member.stderr()).toContain(`CLUSTER_TOPIC_MISMATCH`);
    expect(member.stderr()).toContain(`'${cluster}-clicks-per-user-repartition' exists with 2 partitions where the job needs ${PARTITIONS}`);
  }, 120_000);

  it('windows close across processes while a member’s only input partition stays idle', async () => {
    const input = await freshTopic('cluster-in', 3);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const groupId = `${cluster}-clicks`;
    const seed = Date.now() % 100_000;
    console.log(`cluster idle-partition test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId, idleness: true });
    for (let i = 0; i < 3; i++) {
      running.push(startSluice(['run', JOB, '--cluster', cluster, '--kafka', BROKERS.join(','), '--no-server', '--no-progress', '--log-level', 'warn', '--', args]));
    }
    await until(async () => ((await groupsStable([groupId, cluster], 3)) ? true : undefined), 90_000, () => running.map((p) => p.stderr()).join('\n---\n'));
    await new Promise((r) => setTimeout(r, 5000)); // as above: let the groups settle
    await until(async () => ((await groupsStable([groupId, cluster], 3)) ? true : undefined), 90_000, () => 'groups not stable');

    // Partition 2 gets nothing: the member that reads only it must say it is idle (through
    // its watermark strategy's idleness and an idle marker), or no window would ever close.
    const records = clicks(seed, [0, 1]);
    await produce(input, records);
    const truth = batchCount(records);
    const fromCluster = (await readCommitted(clusterOut, truth.length, 3000, 90_000)).map((m) => m.value.toString());
    expect([...fromCluster].sort()).toEqual([...truth].sort());
  }, 240_000);
});
