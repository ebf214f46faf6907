/**
 * `clusterStatus` and `sluice cluster status` against the real broker: a cluster's
 * internal topics, and a real group of two members (ClusterMember, static membership
 * m0 and m1, the co-partitioning assignor) that write a repartition topic in
 * transactions, read their partitions and commit offsets in transactions, as a running
 * cluster does. Then more input arrives, and one transaction stays open.
 *
 * The job's keyed step is named 'b-count' on purpose: its repartition topic
 * `<cluster>-b-count-repartition` could also be a topic of a cluster named `<cluster>-b`,
 * which exists here too; the group's subscription decides (see `cluster-topics.ts`).
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMember, clusterStatus, ensureInternalTopics, registerJob, type ClusterStatus, type TopicFetcher } from '../../src/cluster/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { SystemClock } from '../../src/time/clock.js';
import { bin, root, runProgram, until } from '../cli/processes.js';
import { BROKERS, freshTopic, produce } from '../connectors/kafka/helpers.js';

const PARTITIONS = 4;
const cluster = `cs-${randomUUID().slice(0, 8)}`;
const other = `${cluster}-b`; // a cluster whose name begins with this one's
const repartition = `${cluster}-b-count-repartition`;
const changelog = `${cluster}-b-count-changelog`;
const fingerprint = `fp-${randomUUID()}`;
let source: string;
const members: ClusterMember[] = [];

/** Reads the member's partitions of `topic` from the group's committed offsets until each reached `upTo(p)` records; the next offset per partition. */
async function readAll(member: ClusterMember, topic: string, upTo: (p: number) => number): Promise<Map<number, number>> {
  const next = new Map<number, number>();
  const counts = new Map<number, number>();
  const owned = member.partitionsOf(topic);
  let fetcher: TopicFetcher | undefined;
  await new Promise<void>((resolve, reject) => {
    const done = () => owned.every((p) => (counts.get(p) ?? 0) >= upTo(p));
    member
      .fetch(topic, {
        reset: 'earliest',
        maxWaitMs: 100,
        full: () => false,
        deliver: (records) => {
          for (const m of records) {
            counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
            next.set(m.partition, Number(m.offset) + 1);
          }
          if (done()) resolve();
        },
        fail: reject,
      })
      .then((f) => (fetcher = f), reject);
  });
  await fetcher?.stop();
  return next;
}

/** Records per source partition p: 10 + p first, then p + 1 more. */
const firstInput = (p: number) => 10 + p;
const moreInput = (p: number) => p + 1;

beforeAll(async () => {
  source = await freshTopic('cs-in', PARTITIONS);
  const specs = [
    { name: `${cluster}-meta`, partitions: 1, replicationFactor: 1, compacted: true },
    { name: repartition, partitions: PARTITIONS, replicationFactor: 1, compacted: false },
    { name: changelog, partitions: PARTITIONS, replicationFactor: 1, compacted: true },
    // The other cluster: its meta topic, and a changelog no group tells the owner of.
    { name: `${other}-meta`, partitions: 1, replicationFactor: 1, compacted: true },
    { name: `${other}-x-changelog`, partitions: 2, replicationFactor: 1, compacted: true },
  ];
  await ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs);
  await registerJob({ bootstrapBrokers: BROKERS }, `${cluster}-meta`, fingerprint);
  await produce(source, Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: firstInput(p) }, (_, i) => ({ value: `r${i}`, partition: p }))).flat());

  for (const name of ['m0', 'm1']) {
    const options = { connection: { bootstrapBrokers: BROKERS }, cluster, instanceId: name, topics: [source, repartition], sessionTimeoutMs: 6000, transactionTimeoutMs: 60_000, commitTimeoutMs: 60_000, clock: new SystemClock() };
    members.push(new ClusterMember(options));
  }
  await Promise.all(members.map((m) => m.start()));
  // Both members in one generation: each owns two partitions of each topic (p % 2).
  await until(
    async () => {
      for (const m of members) if ((await m.beginAttempt()).get(source)?.length !== 2) return undefined;
      return true;
    },
    30_000,
    () => 'the group did not settle on two members',
  );
  // Each member writes every repartition partition in its own transaction, as producing tasks do:
  // m0 3 records per partition, then m1 2 (each transaction ends with a commit marker).
  for (const [m, n] of [[members[0]!, 3], [members[1]!, 2]] as const) {
    await m.send(Array.from({ length: PARTITIONS * n }, (_, i) => ({ topic: repartition, partition: i % PARTITIONS, key: Buffer.from('k'), value: Buffer.from(`v${i}`) })));
    await m.commit(1, []);
  }
  // Each reads all its partitions and commits the offsets in a transaction (a checkpoint).
  for (const m of members) {
    m.notePositions(2, source, await readAll(m, source, firstInput));
    m.notePositions(2, repartition, await readAll(m, repartition, () => 5));
    await m.commit(2, []);
  }
  // Then input the members have not read, and a transaction that stays open.
  await produce(source, Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: moreInput(p) }, (_, i) => ({ value: `s${i}`, partition: p }))).flat());
  await members[0]!.send([{ topic: repartition, partition: 0, value: Buffer.from('open') }]);
}, 90_000);

afterAll(async () => {
  for (const m of members) await m.close();
});

async function sluice(...args: string[]) {
  return runProgram(process.execPath, [bin, ...args], root, process.env, 60_000);
}

describe('clusterStatus (real broker, a real group)', () => {
  let status: ClusterStatus;
  beforeAll(async () => {
    status = await clusterStatus(BROKERS.join(','), cluster);
  });

  it('shows the group, its members with their --member names, hosts and tasks', () => {
    expect(status.cluster).toBe(cluster);
    expect(status.state).toBe('Stable');
    expect(status.job).toBe(fingerprint);
    expect(status.members.map((m) => [m.instanceId, m.host, m.clientId])).toEqual([
      ['m0', '127.0.0.1', `sluice-${cluster}-m0`],
      ['m1', '127.0.0.1', `sluice-${cluster}-m1`],
    ]);
    // Partition p of every topic is member p % 2's: its tasks.
    const tasks = (even: number) => [repartition, source].flatMap((topic) => [even, even + 2].map((partition) => ({ topic, partition })));
    expect(status.members[0]!.tasks).toEqual(tasks(0));
    expect(status.members[1]!.tasks).toEqual(tasks(1));
    // A static member's id begins with its instance id (the broker names it so).
    expect(status.members.map((m) => m.memberId.slice(0, 3))).toEqual(['m0-', 'm1-']);
  });

  it('shows committed offset, end offset and lag per partition; the end is the last stable offset', () => {
    const rows = status.partitions.map((p) => `${p.topic === source ? 'source' : p.topic}/${p.partition} ${p.role} ${p.member} ${p.committed} ${p.end} ${p.lag}`);
    expect(rows).toEqual([
      // 5 records and 2 commit markers per partition: read to the end, the lag is 1 (m1's
      // marker after the last record); m0's open transaction in partition 0 is not counted.
      `${repartition}/0 repartition m0 6 7 1`,
      `${repartition}/1 repartition m1 6 7 1`,
      `${repartition}/2 repartition m0 6 7 1`,
      `${repartition}/3 repartition m1 6 7 1`,
      ...[0, 1, 2, 3].map((p) => `source/${p} source m${p % 2} ${firstInput(p)} ${firstInput(p) + moreInput(p)} ${moreInput(p)}`),
    ]);
    expect(status.members.map((m) => m.lag)).toEqual([2 + 1 + 3, 2 + 2 + 4]);
    expect(status.lag).toBe(4 + 1 + 2 + 3 + 4);
  });

  it("lists the cluster's internal topics, not those of the cluster whose name begins with its own", async () => {
    expect(status.topics).toEqual([
      { name: `${cluster}-meta`, kind: 'meta', partitions: 1, ambiguous: false },
      // Names cluster `<cluster>-b` could own too: this cluster's group reads the repartition
      // topic, and the changelog goes with it.
      { name: repartition, kind: 'repartition', partitions: PARTITIONS, ambiguous: false },
      { name: changelog, kind: 'changelog', partitions: PARTITIONS, ambiguous: false },
    ]);
    const theOther = await clusterStatus(BROKERS, other);
    expect(theOther.state).toBe('Dead');
    expect(theOther.members).toEqual([]);
    expect(theOther.job).toBeUndefined();
    expect(theOther.topics).toEqual([
      { name: `${other}-meta`, kind: 'meta', partitions: 1, ambiguous: false },
      { name: `${other}-x-changelog`, kind: 'changelog', partitions: 2, ambiguous: true },
    ]);
  });

  it('joins no group and commits nothing: asking twice gives the same answer, the group unchanged', async () => {
    const again = await clusterStatus(BROKERS, cluster);
    expect(again.members.map((m) => m.memberId)).toEqual(status.members.map((m) => m.memberId));
    expect(again.partitions).toEqual(status.partitions);
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
    try {
      const groups = await admin.listGroups();
      expect([...groups.keys()].filter((g) => g.includes('status'))).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  it('refuses a cluster that does not exist with CLUSTER_NOT_FOUND, naming the clusters there', async () => {
    const e = await clusterStatus(BROKERS, `${cluster}-nope`).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe('CLUSTER_NOT_FOUND');
    expect((e as SluiceError).detail).toContain(cluster);
  });
});

describe('sluice cluster status', () => {
  it('prints the group, members, partitions and internal topics', async () => {
    const r = await sluice('cluster', 'status', '--kafka', BROKERS.join(','), '--cluster', cluster);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cluster ${cluster}: group Stable, 2 member(s), job ${fingerprint.slice(0, 12)}, lag 14`);
    expect(r.stdout).toMatch(new RegExp(`^m0-\\S+\\s+m0\\s+127\\.0\\.0\\.1\\s+4\\s+6$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${source}\\s+source\\s+3\\s+m1\\s+13\\s+17\\s+4$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${repartition}\\s+repartition\\s+4$`, 'm'));
    expect(r.stdout).not.toContain(`${other}-x-changelog`);
  });

  it('--json prints the status as one JSON object', async () => {
    const r = await sluice('cluster', 'status', '--kafka', BROKERS.join(','), '--cluster', cluster, '--json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as ClusterStatus;
    expect(json.cluster).toBe(cluster);
    expect(json.members.map((m) => m.instanceId)).toEqual(['m0', 'm1']);
    expect(json.partitions).toHaveLength(8);
    expect(json.lag).toBe(14);
  });

  it('exits 4 with CLUSTER_NOT_FOUND for a cluster the brokers do not have', async () => {
    const r = await sluice('cluster', 'status', '--kafka', BROKERS.join(','), '--cluster', `${cluster}-nope`);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[CLUSTER_NOT_FOUND] no cluster '${cluster}-nope' on the Kafka brokers ${BROKERS.join(',')}`);
    expect(r.stderr).toContain('hint: Check the name');
  });

  it('exits 4 with BROKER_UNAVAILABLE when the brokers cannot be reached', async () => {
    const r = await sluice('cluster', 'status', '--kafka', '127.0.0.1:1', '--cluster', cluster);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('[BROKER_UNAVAILABLE] cluster status: listing topics on the Kafka brokers 127.0.0.1:1 failed');
    expect(r.stderr).toContain('Connection to 127.0.0.1:1 failed');
  });

  it('exits 2 on a usage error, and shows its help', async () => {
    const missing = await sluice('cluster', 'status', '--cluster', cluster);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--kafka and --cluster are required');
    const unknown = await sluice('cluster', 'members');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown subcommand 'members'");
    const help = await sluice('help', 'cluster');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sluice cluster status --kafka BROKERS --cluster NAME \[--kafka-access FILE\] \[--json\]/);
  });
});
