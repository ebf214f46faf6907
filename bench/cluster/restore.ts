/**
 * Restore rate of a Sluice cluster: one member counts K distinct keys (K entries of keyed
 * state, written to the changelog topics with its checkpoints), and is stopped once the
 * group has committed the whole input and then the repartition records it made (the state
 * of every record is then in the committed changelog). A fresh member under another name then gets every task and restores it from
 * the changelogs; its `cluster_restored` log line says how many entries and bytes in how
 * many ms. Then r1 is stopped and started again under its name: it takes its tasks' state
 * from the copies on its disk (local state reuse) rather than from the changelogs, and the
 * two restores are printed side by side.
 */
import { randomUUID } from 'node:crypto';
import { reached, type Broker, type Offsets } from './broker.js';
import { produce, type Placed } from './input.js';
import { running, stderrTail, stopProcess, type EngineProcess } from './processes.js';
import { KEY_COUNT_JOB, memberCommand, printable, startMember, type MemberOptions } from './sluice-runner.js';
import type { ClusterKeyCountOptions } from '../jobs/cluster-key-count.js';

export interface RestoreOptions {
  readonly brokers: string;
  /** Distinct keys: entries of state to restore. */
  readonly keys: number;
  readonly checkpointMs: number;
}

/** The `cluster_restored` log line of a member. */
interface Restored {
  readonly tasks: number;
  readonly local: number;
  readonly entries: number;
  readonly bytes: number;
  readonly ms: number;
}

export interface RestoreResult {
  readonly keys: number;
  /** Seconds the first member took to count every key and commit it. */
  readonly buildSeconds: number | undefined;
  readonly restored: Restored | undefined;
  readonly entriesPerSec: number | undefined;
  /** r1 restarted under its name: its restore from the copies on its disk. */
  readonly local?: Restored;
  readonly localEntriesPerSec?: number;
}

const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the figures of a member's `cluster_restored` log line. */
function collectRestore(line: string, into: Restored[]): void {
  if (!line.includes('"cluster_restored"')) return;
  const r = JSON.parse(line) as Restored;
  into.push({ tasks: r.tasks, local: r.local, entries: r.entries, bytes: r.bytes, ms: r.ms });
}

function* distinctKeys(n: number): Generator<Placed> {
  for (let i = 0; i < n; i++) yield { partition: i % PARTITIONS, event: { key: `r${i}`, ts: i, value: 1 } };
}

export async function runRestore(broker: Broker, o: RestoreOptions): Promise<RestoreResult> {
  const id = `ksb-restore-${randomUUID().slice(0, 6)}`;
  const input = `${id}-in`;
  const output = `${id}-out`;
  const repartition = `${id}-count-per-key-repartition`;
  await broker.createTopics([input, output], PARTITIONS);
  await produce(o.brokers, input, distinctKeys(o.keys));
  const ends = await broker.endOffsets(input);
  const member = (name: string, onLine?: (l: string) => void): MemberOptions => ({
    job: KEY_COUNT_JOB,
    jobOptions: { brokers: o.brokers, input, output, checkpointMs: o.checkpointMs } satisfies ClusterKeyCountOptions,
    cluster: id,
    brokers: o.brokers,
    member: name,
    logLevel: 'info',
    onLine,
  });
  console.log(`\n3. Restore: ${o.keys.toLocaleString('en-US')} distinct keys counted by member r0 (one state entry each), r0 stopped, a fresh member r1 takes every task over from the changelog topics`);
  console.log(`  members: ${printable(memberCommand(member('r0')))} (then r1)`);

  const problems: string[] = [];
  const members: EngineProcess[] = [];
  let result: RestoreResult = { keys: o.keys, buildSeconds: undefined, restored: undefined, entriesPerSec: undefined };
  try {
    const started = performance.now();
    const ownRestores: Restored[] = [];
    const first = startMember(member('r0', (line) => collectRestore(line, ownRestores)));
    members.push(first);
    // Every record counted and its state committed: the input read to its end, then the
    // repartition topic too, up to what was committed with the input (the count step reads
    // the repartition records a checkpoint after the source wrote them).
    let repartitionEnds: Offsets | undefined;
    for (;;) {
      await sleep(250);
      if (repartitionEnds === undefined && reached(await broker.committedOffsets(id, input), ends)) repartitionEnds = await broker.endOffsets(repartition, true);
      if (repartitionEnds !== undefined && reached(await broker.committedOffsets(id, repartition), repartitionEnds)) break;
      if (!running(first)) {
        const own = ownRestores.map((r) => `${r.entries} entries/${r.bytes} bytes in ${r.ms} ms`).join(', ');
        throw new Error(`r0 exited before it committed the whole input${own ? ` (its own restores after its restarts: ${own})` : ''}`);
      }
      if (performance.now() - started > 600_000) throw new Error('r0 did not commit the whole input within 10 minutes');
    }
    const buildSeconds = (performance.now() - started) / 1000;
    await stopProcess(first);

    const restores: Restored[] = [];
    const second = startMember(member('r1', (line) => collectRestore(line, restores)));
    members.push(second);
    const waitUntil = performance.now() + 120_000;
    while (!restores.some((r) => r.tasks === PARTITIONS) && performance.now() < waitUntil && running(second)) await sleep(100);
    const all = restores.find((r) => r.tasks === PARTITIONS);
    if (!all) throw new Error(`r1 did not restore all ${PARTITIONS} tasks within 120 s (restores logged: ${JSON.stringify(restores)})`);
    result = { keys: o.keys, buildSeconds, restored: all, entriesPerSec: all.entries / (all.ms / 1000) };
    const mb = all.bytes / 2 ** 20;
    console.log(`  r0 counted and committed ${o.keys.toLocaleString('en-US')} keys in ${buildSeconds.toFixed(1)} s (start-up included)`);
    console.log(
      `  r1 restored ${all.entries.toLocaleString('en-US')} entries of ${all.tasks} tasks (${mb.toFixed(1)} MB) in ${all.ms} ms: ` +
        `${Math.round(result.entriesPerSec!).toLocaleString('en-US')} entries/s, ${(mb / (all.ms / 1000)).toFixed(1)} MB/s` +
        (restores.length > 1 ? ` (restores logged: ${restores.map((r) => `${r.tasks} tasks/${r.entries} entries`).join(', ')})` : ''),
    );
    if (all.entries !== o.keys) problems.push(`r1 restored ${all.entries} entries where ${o.keys} keys were counted`);

    // r1 again, under its name: its own copies, kept at its last commit, are current.
    await stopProcess(second);
    const again: Restored[] = [];
    const third = startMember(member('r1', (line) => collectRestore(line, again)));
    members.push(third);
    const localUntil = performance.now() + 120_000;
    while (!again.some((r) => r.tasks === PARTITIONS) && performance.now() < localUntil && running(third)) await sleep(100);
    const local = again.find((r) => r.tasks === PARTITIONS);
    if (!local) throw new Error(`r1 restarted did not restore all ${PARTITIONS} tasks within 120 s (restores logged: ${JSON.stringify(again)})`);
    result = { ...result, local, localEntriesPerSec: local.entries / (Math.max(1, local.ms) / 1000) };
    console.log(
      `  r1 restarted under its name restored ${local.entries.toLocaleString('en-US')} entries of ${local.tasks} tasks in ${local.ms} ms, ${local.local} of the tasks from copies on its disk ` +
        `(${local.bytes.toLocaleString('en-US')} bytes read from the changelogs): ${Math.round(result.localEntriesPerSec!).toLocaleString('en-US')} entries/s, ` +
        `${(result.localEntriesPerSec! / result.entriesPerSec!).toFixed(2)}× the restore from the changelogs`,
    );
  } catch (e) {
    problems.push((e as Error).message);
  } finally {
    if (problems.length > 0) for (const m of members) problems.push(`${m.name} (pid ${m.pid}) stderr:\n${stderrTail(m)}`);
    await Promise.all(members.map((m) => stopProcess(m)));
    await broker.deleteTopics([`${id}-`]).catch(() => {});
  }
  for (const p of problems) console.log(`  PROBLEM: ${p.replace(/\n/g, '\n  ')}`);
  console.log(JSON.stringify({ suite: 'cluster', workload: 'restore', ...result }));
  return result;
}
