/**
 * Standby replicas and local state reuse, with real `sluice run --cluster` processes on
 * the real broker: members keep warm copies of each other's tasks on disk; when one is
 * killed its tasks move to the members that hold them and restore from those copies, not
 * from the changelogs; a member restarted under its name takes its own copies. The
 * output stays exactly the batch count throughout.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterStatus } from '../../src/cluster/index.js';
import { BROKERS, freshTopic, produce, readCommitted } from '../connectors/kafka/helpers.js';
import { stopProcesses, until, type SluiceProcess } from '../cli/processes.js';
import { batchCount, clicks, expectOutput, firstHalfPerPartition, FLUSH, kill, member, PARTITIONS, running, sleep } from './fixtures/cluster-run.js';

afterEach(() => stopProcesses(running));
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Restored {
  tasks: number;
  local: number;
  bytes: number;
}

/** The `cluster_restored` log lines of a member (run at log level info). */
function restores(p: SluiceProcess): Restored[] {
  return p
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"cluster_restored"'))
    .map((l) => JSON.parse(l) as Restored);
}

/** The task partitions a member keeps copies of, from its state directory. */
async function copies(stateDir: string, cluster: string, name: string): Promise<number[]> {
  const files = await readdir(join(stateDir, cluster, name)).catch(() => [] as string[]);
  return [...new Set(files.flatMap((f) => /\.(\d+)\.state$/.exec(f)?.[1] ?? []).map(Number))].sort();
}

describe('cluster standby replicas and local state (real broker, real processes)', () => {
  it('with one standby, a killed member’s tasks restore from the survivors’ copies, and the output is exact', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const stateDir = await mkdtemp(join(tmpdir(), 'sluice-standby-'));
    dirs.push(stateDir);
    const seed = Date.now() % 100_000;
    console.log(`cluster standby test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    const flags = ['--standbys', '1', '--state-dir', stateDir, '--session-timeout', '6s', '--transaction-timeout', '6s', '--log-level', 'info'];
    const names = ['a', 'b', 'c'];
    const members = names.map((n) => member(cluster, args, n, flags));
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    const early = firstHalfPerPartition(body);
    await produce(input, early);
    await until(async () => ((await readCommitted(clusterOut, 1, 500, 5000)).length > 0 ? true : undefined), 90_000, () => members.map((p) => p.stderr().slice(-2000)).join('\n---\n'));
    // Every task's state is on two members' disks: its owner's and one standby's.
    let held: number[][] = [];
    await until(
      async () => {
        held = await Promise.all(names.map((n) => copies(stateDir, cluster, n)));
        const replicas = Array.from({ length: PARTITIONS }, (_, p) => held.filter((h) => h.includes(p)).length);
        return replicas.every((r) => r >= 2) ? true : undefined;
      },
      60_000,
      () => `copies per member ${names.join(',')}: ${JSON.stringify(held)}`,
    );
    // All of it read and committed, with its state: nothing changes any more, and after a few
    // of the standbys' rounds (500 ms) every copy is current.
    await until(async () => ((await clusterStatus(BROKERS, cluster).catch(() => undefined))?.lag === 0 ? true : undefined), 60_000, () => 'the cluster to catch up');
    await sleep(3000);
    const victim = members[2]!;
    const before = members.slice(0, 2).map((p) => restores(p).length);
    await kill(victim, 'SIGKILL');
    await produce(input, body.filter((r) => !early.includes(r)));
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    await expectOutput(clusterOut, batchCount(records), () => running);
    // The survivor(s) that took the dead member's tasks restored; every task came from a copy on their disk.
    const after = members.slice(0, 2).flatMap((p, i) => restores(p).slice(before[i]));
    expect(after.length, members.map((p) => p.stderr().slice(-3000)).join('\n---\n')).toBeGreaterThan(0);
    for (const r of after) expect(r).toMatchObject({ local: r.tasks, bytes: 0 });
  });

  it('a member restarted under its name takes its tasks’ state from its own copies, reading nothing from the changelogs', { timeout: 240_000 }, async () => {
    const input = await freshTopic('cluster-in', PARTITIONS);
    const clusterOut = await freshTopic('cluster-out', 1);
    const cluster = `cl-${randomUUID().slice(0, 8)}`;
    const stateDir = await mkdtemp(join(tmpdir(), 'sluice-local-'));
    dirs.push(stateDir);
    const seed = Date.now() % 100_000;
    console.log(`cluster local state test: seed ${seed}`);
    const args = JSON.stringify({ input, output: clusterOut, groupId: `${cluster}-clicks` });
    const flags = ['--state-dir', stateDir, '--log-level', 'info'];
    const records = clicks(seed);
    const body = records.filter((r) => !r.value.includes(FLUSH));
    const early = firstHalfPerPartition(body);
    const first = member(cluster, args, 'solo', flags);
    await produce(input, early);
    await until(async () => ((await readCommitted(clusterOut, 1, 500, 5000)).length > 0 ? true : undefined), 90_000, () => first.stderr().slice(-3000));
    await until(async () => ((await copies(stateDir, cluster, 'solo')).length === PARTITIONS ? true : undefined), 30_000, () => 'copies of all four tasks');
    // A clean stop commits a last checkpoint, whose writes are the copies the restart finds.
    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr().slice(-3000)).toBe(0);
    running.splice(running.indexOf(first), 1);
    const second = member(cluster, args, 'solo', flags);
    await second.waitFor(/"cluster_restored"/, 90_000);
    const restored = restores(second)[0]!;
    expect(restored.tasks, second.stderr().slice(-3000)).toBe(PARTITIONS);
    expect(restored.local).toBe(PARTITIONS);
    expect(restored.bytes).toBe(0);
    await produce(input, body.filter((r) => !early.includes(r)));
    await produce(input, records.filter((r) => r.value.includes(FLUSH)));
    await expectOutput(clusterOut, batchCount(records), () => running);
  });
});
