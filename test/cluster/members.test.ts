/**
 * Cluster mode end to end: three real `sluice run --cluster` processes on the real broker
 * run a keyed event-time window count whose key (user) differs from the input topic's
 * partitioning (page); the output topic holds the same results as a single-process run
 * of the same input.
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKERS, freshTopic, produce, readCommitted, transactionalBatches } from '../connectors/kafka/helpers.js';
import { startSluice, stopProcesses, until } from '../cli/processes.js';
import { buildWindowCount } from './fixtures/window-count.js';
import { batchCount, clicks, expectOutput, firstHalfPerPartition, FLUSH, JOB, kill, member, PARTITIONS, random, running, sleep } from './fixtures/cluster-run.js';
import { clusterStatus } from '../../src/cluster/index.js';

afterEach(() => stopProcesses(running));

describe('cluster members (real broker, real processes)', () => {
  it('three members compute a keyed event-time window count equal to a single-process run', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const referenceOut = await freshTopic('cluster-ref', 1);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster members test: seed ${seed}`);

    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    for (let i = 0; i < 3; i++) member(cluster, args);
    // Input at once, while the members are still joining: the rebalances move tasks with their state.
    const records = clicks(seed);
    await produce(input, records);
    await buildWindowCount({ input, output: referenceOut, groupId: `${cluster}-reference`, bounded: true }).run();
    const reference = (await readCommitted(referenceOut, 1)).map((m) => m.value.toString()).filter((l) => !l.startsWith(FLUSH));
    expect(reference.length).toBeGreaterThan(50);
    expect([...reference].sort()).toEqual(batchCount(records).sort()); // the reference itself is right
    await expectOutput(clusterOut, reference, () => running);
    for (const p of running) expect(p.child.exitCode, p.stderr().slice(-3000)).toBeNull(); // all three still members
  });

  it('two members with two stream threads each are four members of the group, and their output equals a single-process run', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const referenceOut = await freshTopic('cluster-ref', 1);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster stream threads test: seed ${seed}`);

    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    member(cluster, args, 'a', ['--parallelism', '2']);
    member(cluster, args, 'b', ['--parallelism', '2']);
    // Each thread is a static member under its process's name; the input comes once all four have joined, so that every one gets work.
    const instances = async () => (await clusterStatus(BROKERS, cluster).catch(() => undefined))?.members.map((m) => m.instanceId).sort();
    await until(async () => ((await instances())?.length === 4 ? true : undefined), 120_000, () => 'the group to have four members');
    expect(await instances()).toEqual(['a', 'a-t1', 'b', 'b-t1']);
    const records = clicks(seed);
    await produce(input, records);
    await buildWindowCount({ input, output: referenceOut, groupId: `${cluster}-reference`, bounded: true }).run();
    const reference = (await readCommitted(referenceOut, 1)).map((m) => m.value.toString()).filter((l) => !l.startsWith(FLUSH));
    expect([...reference].sort()).toEqual(batchCount(records).sort());
    await expectOutput(clusterOut, reference, () => running);
    const status = await clusterStatus(BROKERS, cluster);
    expect(status.members.map((m) => m.instanceId).sort()).toEqual(['a', 'a-t1', 'b', 'b-t1']);
    for (const m of status.members) expect(m.tasks.some((p) => p.topic === input), `member ${m.instanceId}`).toBe(true);
    for (const p of running) expect(p.child.exitCode, p.stderr().slice(-3000)).toBeNull();
    // SIGTERM stops every thread of a process: it exits cleanly, and its two members leave the group.
    const a = running[0]!;
    a.child.kill('SIGTERM');
    expect(await a.exited, a.stderr().slice(-3000)).toBe(0);
    running.splice(0, 1);
    await until(async () => ((await instances())?.join() === 'b,b-t1' ? true : undefined), 60_000, () => `the group to keep b and b-t1, has ${String(instances())}`);
  });

  it('chaos: members killed with SIGKILL at random moments and restarted give exactly the output of an uninterrupted run', { timeout: 300_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster chaos test: seed ${seed}`);
    const next = random(seed);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    const names = ['m0', 'm1', 'm2'];
    const members = names.map((n) => member(cluster, args, n));
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    const slices = 4;
    for (let i = 0; i < slices; i++) {
      await produce(input, body.slice(Math.floor((i * body.length) / slices), Math.floor(((i + 1) * body.length) / slices)));
      await sleep(1000 + next() * 3000);
      const victim = Math.floor(next() * names.length);
      await kill(members[victim]!, 'SIGKILL');
      // Back within the session timeout (its tasks wait for it) or after it (they move and move back).
      await sleep(next() < 0.5 ? 500 + next() * 2000 : 11_000 + next() * 2000);
      members[victim] = member(cluster, args, names[victim]);
    }
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    await expectOutput(clusterOut, batchCount(records), () => members);
  });

  // This test and the chaos test above gave wrong counts in some runs until the
  // read_committed fix (aborted repartition and output records were read) and event time
  // by input partition (a dead member's partitions stopped holding the watermark back after
  // 10 s of silence).
  it('a member that joins late and one that leaves cleanly during the run change nothing in the output', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster join/leave test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    const first = member(cluster, args);
    member(cluster, args);
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    await produce(input, body.slice(0, body.length / 2));
    await sleep(3000);
    member(cluster, args); // joins late: takes tasks, with their state
    await sleep(3000);
    await kill(first, 'SIGTERM'); // leaves: its tasks move to the others
    await produce(input, body.slice(body.length / 2));
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    await expectOutput(clusterOut, batchCount(records), () => running);
  });

  it('a whole cluster restarted from scratch restores its state from the changelogs and continues', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster restart test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    const before = [member(cluster, args), member(cluster, args)];
    // The first half of every partition's clicks: every source partition moves on, so windows close.
    const early = firstHalfPerPartition(body);
    await produce(input, early);
    // Some windows closed and committed: the state of the open ones is in the changelogs.
    await until(async () => ((await readCommitted(clusterOut, 1, 500, 5000)).length > 0 ? true : undefined), 90_000, () => before.map((p) => p.stderr()).join('\n---\n'));
    for (const p of before) await kill(p, 'SIGKILL');
    // Shorter timeouts (the broker's least session timeout is 6 s): the dead members' tasks
    // and open transactions go sooner.
    member(cluster, args, undefined, ['--session-timeout', '6s', '--transaction-timeout', '6s']);
    member(cluster, args, undefined, ['--session-timeout', '6s', '--transaction-timeout', '6s']);
    await produce(input, body.filter((r) => !early.includes(r)));
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    await expectOutput(clusterOut, batchCount(records), () => running);
  });

  it('at-least-once: members write without transactions, and a member killed with SIGKILL loses no window (some may come out again, counted again)', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const seed = Date.now() % 100_000;
    console.log(`cluster at-least-once test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks`, delivery: 'at-least-once' });
    const flags = ['--session-timeout', '6s'];
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    const [, second] = [member(cluster, args, undefined, flags), member(cluster, args, undefined, flags)];
    const early = firstHalfPerPartition(body);
    await produce(input, early);
    await until(async () => ((await readCommitted(clusterOut, 1, 500, 5000)).length > 0 ? true : undefined), 90_000, () => running.map((p) => p.stderr()).join('\n---\n'));
    await kill(second!, 'SIGKILL');
    await produce(input, body.filter((r) => !early.includes(r)));
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    const expected = batchCount(records);
    const windowOf = (line: string) => line.slice(0, line.lastIndexOf('|'));
    const countOf = (line: string) => Number(line.slice(line.lastIndexOf('|') + 1));
    const best = new Map<string, number>();
    await until(
      async () => {
        best.clear();
        for (const m of await readCommitted(clusterOut, 1, 500, 5000)) {
          const line = m.value.toString();
          best.set(windowOf(line), Math.max(best.get(windowOf(line)) ?? 0, countOf(line)));
        }
        return expected.every((l) => (best.get(windowOf(l)) ?? 0) >= countOf(l)) ? true : undefined;
      },
      120_000,
      () => running.map((p) => p.stderr()).join('\n---\n'),
    );
    // Nothing lost: every window, with at least its count; and no window that is not one.
    for (const line of expected) expect(best.get(windowOf(line)) ?? 0, line).toBeGreaterThanOrEqual(countOf(line));
    expect([...best.keys()].sort()).toEqual(expected.map(windowOf).sort());
    // Written without transactions: no batch of the output is transactional.
    expect(await transactionalBatches(clusterOut)).toBe(0);
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
    const seed = Date.now() % 100_000;
    console.log(`cluster idle-partition test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks`, idleness: true });
    for (let i = 0; i < 3; i++) member(cluster, args);

    // Partition 2 gets nothing: the member that reads only it must say it is idle (through
    // its watermark strategy's idleness and an idle marker), or no window would ever close.
    const records = clicks(seed, [0, 1]);
    await produce(input, records);
    const truth = batchCount(records);
    await expectOutput(clusterOut, truth, () => running);
  }, 240_000);
});
