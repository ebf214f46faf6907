/**
 * Failover of a Sluice cluster: two members run the window count on continuous input
 * (event time = the wall clock), then one is killed with SIGKILL. Measured: the time from
 * the kill until the output's committed windows of the killed member's tasks move again,
 * i.e. the first output record committed after the kill (at an offset past the output's
 * last stable offsets read right after the kill) whose key belongs to one of the killed
 * member's repartition partitions. It includes the session timeout (the group notices
 * the death), the rebalance, the survivor's restart on the new assignment, the restore of
 * the moved tasks' state from the changelogs, and catching up on the input.
 * Then the input stops, closing records close every window, and the output is reconciled
 * with a batch count of everything written.
 */
import { randomUUID } from 'node:crypto';
import { Producer } from '@platformatic/kafka';
import type { Broker, Offsets } from './broker.js';
import { closingRecords, prng, produce, type BenchEvent } from './input.js';
import { OutputReader, type OutputRecord } from './output-reader.js';
import { sluicePartition } from './partitions.js';
import { running, stderrTail, stopProcess, type EngineProcess } from './processes.js';
import { batchCounts, formatReconciled, Reconciler } from './reconcile.js';
import { memberCommand, printable, startMember, WINDOW_COUNT_JOB, type MemberOptions } from './sluice-runner.js';

export interface FailoverOptions {
  readonly brokers: string;
  /** Leave the run's topics on the broker (to look into a wrong result). */
  readonly keepTopics?: boolean;
  /** Input records per second. */
  readonly rate: number;
  readonly keys: number;
  readonly checkpointMs: number;
  readonly seed: number;
  /** The members' session and transaction timeouts (`--session-timeout`, `--transaction-timeout`). */
  readonly timeoutMs: number;
  /** `--standbys` of the members: with 1, each keeps a warm copy of the other's tasks. */
  readonly standbys: number;
}

const PARTITIONS = 4;
/** Watermark delay of the failover job: the input's own disorder (below) and some. */
const LATENESS_MS = 2000;
const DISORDER_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `rate` records per second, round-robin, stamped with the wall clock, until stopped; keeps them for the reconcile. */
class ContinuousInput {
  readonly events: BenchEvent[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;
  lastTs = 0;

  constructor(
    private readonly brokers: string,
    private readonly topic: string,
    private readonly o: FailoverOptions,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    const producer = new Producer({ clientId: 'sluice-ksbench-failover', bootstrapBrokers: [this.brokers], idempotent: true });
    const next = prng(this.o.seed);
    const tickMs = 100;
    let i = 0;
    try {
      for (let tick = performance.now(); !this.stopped; tick += tickMs) {
        const messages: Array<{ topic: string; partition: number; value: Buffer }> = [];
        for (let n = 0; n < (this.o.rate * tickMs) / 1000; n++, i++) {
          const e: BenchEvent = { key: `k${Math.floor(next() * this.o.keys)}`, ts: Date.now() - Math.floor(next() * DISORDER_MS), value: i };
          this.events.push(e);
          if (e.ts > this.lastTs) this.lastTs = e.ts;
          messages.push({ topic: this.topic, partition: i % PARTITIONS, value: Buffer.from(JSON.stringify(e)) });
        }
        await producer.send({ messages });
        const wait = tick + tickMs - performance.now();
        if (wait > 0) await sleep(wait);
      }
    } finally {
      await producer.close();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** A member's `cluster_restored` log line. */
interface Restore {
  readonly tasks: number;
  readonly local: number;
  readonly entries: number;
  readonly bytes: number;
  readonly ms: number;
}

export interface FailoverResult {
  readonly standbys: number;
  readonly sessionTimeoutMs: number;
  readonly victimPartitions: number[];
  /** Seconds from the kill until the group had given every partition to the survivor. */
  readonly reassignedAfter: number | undefined;
  /** Seconds from the kill until the first committed output of the killed member's tasks. */
  readonly firstOutputAfter: number | undefined;
  /** The same for the survivor's own tasks (it restarts on the new assignment too). */
  readonly survivorFirstOutputAfter: number | undefined;
  /** Windows output per second after the kill: [killed member's tasks, survivor's tasks]. */
  readonly timeline: Array<[number, number]>;
  /** The survivor's restore of every task after the kill: how many came from copies on its disk. */
  readonly takeover?: Restore;
}

/** `0/0 0/0 0/0 5/3` as `0/0 ×3, 5/3`: long stretches of nothing stay readable. */
function runs(cells: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < cells.length; ) {
    let j = i;
    while (j < cells.length && cells[j] === cells[i]) j++;
    out.push(j - i > 1 ? `${cells[i]} ×${j - i}` : cells[i]!);
    i = j;
  }
  return out.join(', ');
}

export async function runFailover(broker: Broker, o: FailoverOptions): Promise<FailoverResult> {
  const id = `ksb-failover-${randomUUID().slice(0, 6)}`;
  const input = `${id}-in`;
  const output = `${id}-out`;
  const repartition = `${id}-count-per-key-repartition`;
  await broker.createTopics([input, output], PARTITIONS);
  const member = (name: string): MemberOptions => ({
    job: WINDOW_COUNT_JOB,
    jobOptions: { brokers: o.brokers, input, output, lateness: LATENESS_MS, checkpointMs: o.checkpointMs },
    cluster: id,
    brokers: o.brokers,
    member: name,
    timeoutMs: o.timeoutMs,
    standbys: o.standbys,
    onLine: (line) => {
      if (name === 'm0' && line.includes('"cluster_restored"')) restores.push(JSON.parse(line) as Restore);
    },
  });
  const restores: Restore[] = [];
  console.log(
    `\n2. Failover: 2 Sluice members on continuous input (${o.rate.toLocaleString('en-US')} records/s, event time = the wall clock, lateness ${LATENESS_MS} ms), one killed with SIGKILL, timeouts ${o.timeoutMs / 1000} s, ${o.standbys} standby replica(s)\n` +
      `  members: ${printable(memberCommand(member('m0')))} (and m1)`,
  );

  const outputs: OutputRecord[] = [];
  const reader = new OutputReader(o.brokers, output, (r) => outputs.push(r));
  await reader.start();
  const source = new ContinuousInput(o.brokers, input, o);
  source.start();
  const members: EngineProcess[] = [startMember(member('m0')), startMember(member('m1'))];
  const problems: string[] = [];
  let result: FailoverResult = { standbys: o.standbys, sessionTimeoutMs: o.timeoutMs, victimPartitions: [], reassignedAfter: undefined, firstOutputAfter: undefined, survivorFirstOutputAfter: undefined, timeline: [] };
  try {
    // Steady state: each member holds two partitions, and windows have been coming out for a while.
    let victimPartitions: number[] | undefined;
    const settleBy = performance.now() + 120_000;
    let steadySince: number | undefined;
    while (performance.now() < settleBy) {
      await sleep(500);
      const a = await broker.assignments(id, repartition);
      const split = a.get('m0')?.length === 2 && a.get('m1')?.length === 2;
      steadySince = split && outputs.length > 0 ? (steadySince ?? performance.now()) : undefined;
      if (steadySince !== undefined && performance.now() - steadySince > 5000) {
        victimPartitions = a.get('m1');
        break;
      }
      if (members.some((m) => !running(m))) break;
    }
    if (!victimPartitions) throw new Error(`the two members did not reach a steady split of the partitions within 120 s`);
    const owned = new Set(victimPartitions);

    const restoresBefore = restores.length;
    const killedAt = performance.now();
    const killedAtWall = Date.now();
    members[1]!.child.kill('SIGKILL');
    const cut: Offsets = await broker.endOffsets(output, true);
    console.log(
      `  m1 held repartition partitions [${victimPartitions.join(', ')}]; killed with SIGKILL at ${new Date(killedAtWall).toISOString()} (event time ${killedAtWall}), ` +
        'after 5 s of steady state (each member two partitions, output flowing)',
    );
    const afterKill = (r: OutputRecord) => r.offset >= (cut.get(r.partition) ?? 0) && r.readAt >= killedAt;
    const isMoved = (r: OutputRecord) => afterKill(r) && owned.has(sluicePartition(r.value.key, PARTITIONS));
    let reassignedAt: number | undefined;
    let firstAt: number | undefined;
    const deadline = killedAt + 120_000;
    while (performance.now() < deadline && (firstAt === undefined || reassignedAt === undefined)) {
      await sleep(250);
      if (reassignedAt === undefined && (await broker.assignments(id, repartition)).get('m0')?.length === PARTITIONS) reassignedAt = performance.now();
      firstAt ??= outputs.find(isMoved)?.readAt;
      if (!running(members[0]!)) break;
    }
    const survivorFirst = outputs.find((r) => afterKill(r) && !owned.has(sluicePartition(r.value.key, PARTITIONS)))?.readAt;
    result = {
      standbys: o.standbys,
      sessionTimeoutMs: o.timeoutMs,
      victimPartitions,
      survivorFirstOutputAfter: survivorFirst === undefined ? undefined : (survivorFirst - killedAt) / 1000,
      reassignedAfter: reassignedAt === undefined ? undefined : (reassignedAt - killedAt) / 1000,
      firstOutputAfter: firstAt === undefined ? undefined : (firstAt - killedAt) / 1000,
      timeline: [],
    };
    await sleep(5000); // the survivor runs on the whole input for a while

    // Close every window and reconcile all of it.
    await source.stop();
    await produce(o.brokers, input, closingRecords(PARTITIONS, source.lastTs, LATENESS_MS));
    const reconciler = new Reconciler(batchCounts(source.events));
    let seen = 0;
    let quietSince = performance.now();
    while (!reconciler.complete && performance.now() - quietSince < 30_000) {
      await sleep(200);
      for (; seen < outputs.length; seen++) reconciler.add(outputs[seen]!.value);
      if (seen > 0 && outputs[seen - 1]!.readAt > quietSince) quietSince = outputs[seen - 1]!.readAt;
    }
    await sleep(2000);
    for (; seen < outputs.length; seen++) reconciler.add(outputs[seen]!.value);
    const timeline: Array<[number, number]> = [];
    for (const r of outputs) {
      if (!afterKill(r)) continue;
      const second = Math.floor((r.readAt - killedAt) / 1000);
      while (timeline.length <= second) timeline.push([0, 0]);
      timeline[second]![owned.has(sluicePartition(r.value.key, PARTITIONS)) ? 0 : 1]++;
    }
    result = { ...result, timeline };
    const fmt = (x: number | undefined) => (x === undefined ? 'never (within 120 s)' : `${x.toFixed(1)} s`);
    console.log(`  session and transaction timeouts ${o.timeoutMs / 1000} s (\`--session-timeout\`, \`--transaction-timeout\`; default 10 s; a broker allows down to its group.min.session.timeout.ms, 6 s by default, 1 s in scripts/kafka/start.sh)`);
    const takeover = restores.slice(restoresBefore).find((r) => r.tasks === PARTITIONS);
    result = { ...result, takeover };
    console.log(
      takeover === undefined
        ? '  m0 logged no restore of all four tasks after the kill'
        : `  m0's restore of all ${takeover.tasks} tasks after the kill: ${takeover.local} from copies on its disk (standby replicas, its own writes), ${takeover.tasks - takeover.local} from the changelogs (${takeover.bytes.toLocaleString('en-US')} bytes, ${takeover.entries.toLocaleString('en-US')} entries) in ${takeover.ms} ms`,
    );
    console.log(
      `  group gave m1's partitions to m0 after ${fmt(result.reassignedAfter)}; first committed output of m1's tasks after ${fmt(result.firstOutputAfter)} ` +
        `(of m0's own tasks, which restart on the new assignment too: after ${fmt(result.survivorFirstOutputAfter)})`,
    );
    console.log(`  windows output per second after the kill, m1's tasks/m0's: ${runs(timeline.map(([a, b]) => `${a}/${b}`))}`);
    console.log(`  ${formatReconciled(reconciler.result()).replace(/\n/g, '\n  ')} (${source.events.length.toLocaleString('en-US')} records in all)`);
    if (!running(members[0]!)) problems.push('m0 exited');
  } catch (e) {
    problems.push((e as Error).message);
    await source.stop().catch(() => {});
  } finally {
    if (problems.length > 0) for (const m of members) problems.push(`${m.name} (pid ${m.pid}) stderr:\n${stderrTail(m)}`);
    await Promise.all(members.map((m) => stopProcess(m)));
    await reader.close();
    if (!o.keepTopics) await broker.deleteTopics([`${id}-`]).catch(() => {});
  }
  for (const p of problems) console.log(`  PROBLEM: ${p.replace(/\n/g, '\n  ')}`);
  console.log(JSON.stringify({ suite: 'cluster', workload: 'failover', ...result }));
  return result;
}
