/**
 * Kafka faults, measured on a private broker (the shared one on 9092 is never touched):
 * `npx tsx bench/kafka-faults.ts [--records N] [--keys K] [--down ms] [--delivery exactly-once|at-least-once] [--only broker|job]`.
 *
 * The job: Kafka (4 partitions, bounded) → count per key (a running reduce) → Kafka,
 * checkpoints every 500 ms, restart policy 3 × 1 s (the fault test's job, `kafka-faults-job.ts`).
 *
 * 1. broker: the broker is SIGKILLed once output is flowing, started again `--down` ms
 *    later (default 3000; the broker then takes its own time to start); prints the job's
 *    restarts, how long the job saw no committed output (the outage from the job's point
 *    of view), the time from the broker answering again to the first committed output
 *    after it, and whether the output is exact.
 * 2. job: a process running the job is SIGKILLed once output is flowing, and started again
 *    (it restores the latest checkpoint): prints the time from process start to the first
 *    record out of the count step and to the first committed output, for a clean start
 *    and for the restart after the kill.
 *
 * "Committed output" is watched from outside the job: the output topic's last stable
 * offsets (read_committed), polled every 50 ms. Prints one JSON line per scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, Producer } from '@platformatic/kafka';
import { freshTopic, produce, readCommitted } from '../test/connectors/kafka/helpers.js';
import { privateBroker, type PrivateBroker } from '../test/connectors/kafka/private-broker.js';
import { buildFaultsJob, diffOutput, inputRecords, type FaultsFixture } from '../test/connectors/kafka/kafka-faults-job.js';

const here = fileURLToPath(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
function argString(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh input topic holding the job's input, and a fresh output topic; 4 partitions each. */
async function setUp(broker: string, records: number, keys: number): Promise<{ input: string; output: string }> {
  const input = await freshTopic('faults-in', 4, [broker]);
  const output = await freshTopic('faults-out', 4, [broker]);
  await produce(input, inputRecords(records, keys), [broker]);
  return { input, output };
}

/**
 * A fresh broker creates its internal topics (__consumer_offsets, __transaction_state) on
 * first use, which takes seconds: use both once so that no measured run pays for it.
 */
async function warmUp(broker: string): Promise<void> {
  const { input } = await setUp(broker, 10, 1);
  const consumer = new Consumer({ clientId: 'sluice-bench', bootstrapBrokers: [broker], groupId: `warm-${randomUUID()}` });
  const stream = await consumer.consume({ topics: [input], mode: 'earliest' });
  await new Promise((r) => stream.once('data', r));
  await stream.close();
  await consumer.close(true);
  const producer = new Producer({ clientId: 'sluice-bench', bootstrapBrokers: [broker], idempotent: true, transactionalId: `warm-${randomUUID()}` });
  const tx = await producer.beginTransaction();
  await tx.send({ messages: [{ topic: input, value: Buffer.from('{}') }] });
  await tx.commit();
  await producer.close();
}

/**
 * Watches the committed (read_committed) end offsets of a topic from outside the job,
 * riding out broker outages itself (a fresh client after any error).
 */
class CommittedWatch {
  private stopped = false;
  /** [time, sum of last stable offsets] whenever the sum grew. */
  readonly growth: Array<[number, number]> = [];
  private readonly done: Promise<void>;
  constructor(
    private readonly broker: string,
    private readonly topic: string,
  ) {
    this.done = this.loop();
  }
  private async loop(): Promise<void> {
    let last = -1;
    while (!this.stopped) {
      const c = new Consumer({ clientId: 'sluice-bench-watch', bootstrapBrokers: [this.broker], groupId: `watch-${randomUUID()}`, retries: 0, connectTimeout: 500, timeout: 2000 });
      try {
        while (!this.stopped) {
          const offsets = await c.listOffsets({ topics: [this.topic], isolationLevel: 1 });
          const sum = (offsets.get(this.topic) ?? []).reduce((a, o) => a + Number(o), 0);
          if (sum > last) {
            if (last >= 0) this.growth.push([Date.now(), sum]);
            last = sum;
          }
          await sleep(50);
        }
      } catch {
        await sleep(100);
      } finally {
        await Promise.resolve(c.close(true)).catch(() => {});
      }
    }
  }
  /** The first time the committed offsets grew at or after `t`. */
  firstGrowthAfter(t: number): number | undefined {
    return this.growth.find(([at]) => at >= t)?.[0];
  }
  /** The longest time without growth between `from` and `to`. */
  longestGap(from: number, to: number): number {
    let prev = from;
    let gap = 0;
    for (const [at] of this.growth) {
      if (at < from) continue;
      if (at > to) break;
      gap = Math.max(gap, at - prev);
      prev = at;
    }
    return gap;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** The output topic read with read_committed, against what the job must write. */
async function check(broker: string, output: string, records: number, keys: number): Promise<{ exact: boolean; missing: number; doubled: number }> {
  const got = await readCommitted(output, records, 1500, 120_000, [broker]);
  const diff = diffOutput(got.map((m) => m.value.toString()), records, keys);
  return { exact: diff.missing === 0 && diff.doubled === 0, ...diff };
}

async function brokerScenario(broker: PrivateBroker, records: number, keys: number, downMs: number, delivery: FaultsFixture['delivery']) {
  const { input, output } = await setUp(broker.address, records, keys);
  const watch = new CommittedWatch(broker.address, output);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-faults-'));
  const fixture: FaultsFixture = { brokers: broker.address, input, output, groupId: `g-${randomUUID()}`, delivery, checkpointDir: dir };
  const { job, probe } = buildFaultsJob(fixture);
  const errors: Array<[number, string]> = [];
  const t0 = Date.now();
  const running = job.start({ onRestart: (e) => errors.push([Date.now(), (e as Error).message.split('\n')[0]!]) });
  let failure: unknown;
  const done = running.done.catch((e: unknown) => (failure = e));
  // Kill once output is flowing and committed: the outage is then measured between commits.
  while ((probe.count < records / 5 || watch.growth.length === 0) && failure === undefined) await sleep(20);
  const tKill = Date.now();
  await broker.kill();
  await sleep(downMs);
  const tStart = Date.now();
  await broker.start();
  const tUp = Date.now();
  await done;
  const tEnd = Date.now();
  const firstAfterUp = watch.firstGrowthAfter(tUp);
  const lastBeforeKill = [...watch.growth].reverse().find(([at]) => at <= tKill)?.[0];
  await watch.stop();
  rmSync(dir, { recursive: true, force: true });
  const result = await check(broker.address, output, records, keys);
  return {
    scenario: 'broker-restart',
    delivery,
    records,
    downMs,
    restarts: running.restarts,
    failed: failure === undefined ? null : String((failure as Error).message).split('\n')[0]!.slice(0, 300),
    restartErrors: errors.map(([at, e]) => `${at - tKill} ms after the kill: ${e.slice(0, 300)}`),
    brokerDownMs: tUp - tKill,
    brokerStartMs: tUp - tStart,
    // No committed output, from the last commit before the kill to the first one after it.
    outageSeenByJobMs: firstAfterUp !== undefined && lastBeforeKill !== undefined ? firstAfterUp - lastBeforeKill : null,
    firstOutputAfterBrokerUpMs: firstAfterUp !== undefined ? firstAfterUp - tUp : null,
    jobMs: tEnd - t0,
    ...result,
  };
}

/** Runs the job in a child process (this file with --child); it is SIGKILLed after `killAfterOutputs` records out of the count step. */
function child(fixture: FaultsFixture, killAfterOutputs?: number): { proc: ChildProcess; startedAt: number; jobStartAt: Promise<number>; firstOutAt: Promise<number>; ended: Promise<number | null> } {
  const startedAt = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', here, '--child', JSON.stringify({ ...fixture, killAfterOutputs })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let resolveFirst!: (t: number) => void;
  const firstOutAt = new Promise<number>((r) => (resolveFirst = r));
  let resolveJobStart!: (t: number) => void;
  const jobStartAt = new Promise<number>((r) => (resolveJobStart = r));
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('FIRST ')) resolveFirst(Number(line.slice(6)));
      if (line.startsWith('START ')) resolveJobStart(Number(line.slice(6)));
      if (line === 'KILLME') proc.kill('SIGKILL');
    }
  });
  const ended = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, startedAt, jobStartAt, firstOutAt, ended };
}

/**
 * From the process start and from the job's start (after imports): to the first record out
 * of the count step, and to the first committed output written by this process (the first
 * growth of the committed offsets after its first record out: a restart first commits the
 * killed process's pre-committed transaction, which is not new output).
 */
async function timings(c: ReturnType<typeof child>, watch: CommittedWatch) {
  const jobStart = await c.jobStartAt;
  const firstOut = await c.firstOutAt;
  while (watch.firstGrowthAfter(firstOut) === undefined && c.proc.exitCode === null) await sleep(50);
  const firstCommit = watch.firstGrowthAfter(firstOut) ?? NaN;
  return {
    importsMs: jobStart - c.startedAt,
    firstRecordOutMs: firstOut - jobStart,
    firstCommittedOutputMs: firstCommit - jobStart,
    firstCommittedOutputFromSpawnMs: firstCommit - c.startedAt,
  };
}

async function jobScenario(broker: PrivateBroker, records: number, keys: number) {
  const { input, output } = await setUp(broker.address, records, keys);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-faults-'));
  const fixture: FaultsFixture = { brokers: broker.address, input, output, groupId: `g-${randomUUID()}`, delivery: 'exactly-once', checkpointDir: dir };
  const watch = new CommittedWatch(broker.address, output);
  try {
    const first = child(fixture, Math.floor(records / 3));
    const clean = await timings(first, watch);
    await first.ended;
    const second = child(fixture);
    const code = await second.ended;
    await sleep(200);
    const afterKill = await timings(second, watch);
    await watch.stop();
    return {
      scenario: 'job-killed',
      records,
      secondExit: code,
      clean,
      afterKill,
      ...(await check(broker.address, output, records, keys)),
    };
  } finally {
    await watch.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runChild(fixture: FaultsFixture & { killAfterOutputs?: number }): Promise<void> {
  // Tells the parent when the job starts (imports done), when the first record comes out of
  // the count step, and when to kill this process.
  const { job } = buildFaultsJob(fixture, (n) => {
    if (n === 1) process.stdout.write(`FIRST ${Date.now()}\n`);
    if (fixture.killAfterOutputs !== undefined && n === fixture.killAfterOutputs) process.stdout.write('KILLME\n');
  });
  process.stdout.write(`START ${Date.now()}\n`);
  await job.run();
  process.exit(0);
}

const childArg = argString('--child');
if (childArg) {
  await runChild(JSON.parse(childArg) as FaultsFixture & { killAfterOutputs?: number });
} else {
  const records = arg('--records', 60_000);
  const keys = arg('--keys', 500);
  const downMs = arg('--down', 3000);
  const only = argString('--only');
  const broker = await privateBroker('bench');
  try {
    await broker.start();
    console.log(`private broker on ${broker.address} (${broker.home})`);
    await warmUp(broker.address);
    const delivery = (argString('--delivery') ?? 'exactly-once') as FaultsFixture['delivery'];
    if (!only || only === 'broker') {
      const r = await brokerScenario(broker, records, keys, downMs, delivery);
      const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
      console.log(
        `broker SIGKILLed, started again after ${downMs} ms (${delivery}): ${r.restarts} restart(s)${r.failed ? `, FAILED: ${r.failed}` : ''}; ` +
          `broker away ${s(r.brokerDownMs)}, no committed output for ${s(r.outageSeenByJobMs)}, first committed output ${s(r.firstOutputAfterBrokerUpMs)} after the broker answered; ` +
          `output ${r.exact ? 'exact' : `missing ${r.missing}, doubled ${r.doubled}`}`,
      );
      console.log(JSON.stringify(r));
    }
    if (!only || only === 'job') {
      const r = await jobScenario(broker, records, keys);
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(
        `job process SIGKILLed and started again: first record out ${s(r.afterKill.firstRecordOutMs)}, first committed output ${s(r.afterKill.firstCommittedOutputMs)} after the job started ` +
          `(clean start: ${s(r.clean.firstRecordOutMs)}, ${s(r.clean.firstCommittedOutputMs)}); output ${r.exact ? 'exact' : `missing ${r.missing}, doubled ${r.doubled}`}`,
      );
      console.log(JSON.stringify(r));
    }
  } finally {
    await broker.destroy();
  }
  process.exit(0);
}
