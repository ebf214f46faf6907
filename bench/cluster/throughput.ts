/**
 * One throughput run of the cluster benchmark, the same for every engine and instance
 * count:
 * 1. fresh input and output topics (4 partitions each); the body records written first,
 *    so the engine starts on a backlog;
 * 2. the engine's processes started (the clock starts here);
 * 3. once the engine's consumer group has committed the whole body (all of it read, and,
 *    exactly-once, its effects committed), the closing records are written: written any
 *    earlier, a closing record read before another partition's last body records would
 *    move Kafka Streams' stream time (the highest timestamp its task has seen) past them
 *    and drop them as late;
 * 4. the output is read as it is committed and checked record by record against the
 *    batch counts; the clock stops when every expected window has been read right, and the
 *    processes' CPU time is read at that moment;
 * 5. a quiet period to catch late duplicates, then the processes are stopped and every
 *    topic of the run deleted.
 * records/s = body records / (complete − start); records per CPU-second = body records /
 * the processes' user+system CPU, start-up included.
 */
import { randomUUID } from 'node:crypto';
import { reached, type Broker } from './broker.js';
import { cpuSeconds } from './cpu.js';
import { bodyRecords, closingRecordsOf, produce, type InputSpec } from './input.js';
import { OutputReader } from './output-reader.js';
import { running, stderrTail, stopProcess, type EngineProcess } from './processes.js';
import { Reconciler, type Reconciled, type WindowCounts } from './reconcile.js';

/** A run's own names: its topics, and the cluster name / application id of its engine. */
export interface RunNames {
  readonly id: string;
  readonly input: string;
  readonly output: string;
}

/** An engine in one configuration (instances × threads each). */
export interface Contender {
  readonly engine: 'Sluice' | 'Kafka Streams';
  readonly instances: number;
  readonly threads: number;
  /** Starts its processes on the run's topics. */
  start(run: RunNames): EngineProcess[];
  /** The consumer group whose commits on the input show how far it has read. */
  group(run: RunNames): string;
  /** The command of its first process, for the report. */
  command(run: RunNames): string;
  /** Removes what its processes left on disk. */
  cleanup?(run: RunNames): void;
}

export interface RunOptions {
  readonly brokers: string;
  readonly spec: InputSpec;
  readonly latenessMs: number;
  readonly expected: WindowCounts;
  /** How long to keep reading after the output is complete, to catch duplicates. */
  readonly quietMs: number;
  /** Give up when neither the input commits nor the output have moved for this long. */
  readonly stallMs: number;
  /** After the closing records: give up when the output has not moved for this long. */
  readonly quietStallMs: number;
  /** Leave the run's topics on the broker (to look into a wrong result). */
  readonly keepTopics?: boolean;
}

export interface RunResult {
  readonly engine: string;
  readonly instances: number;
  readonly threads: number;
  readonly records: number;
  /** Seconds from start until the output was complete; undefined when it never was. */
  readonly seconds: number | undefined;
  readonly recordsPerSec: number | undefined;
  readonly cpuSeconds: number | undefined;
  readonly recordsPerCpuSecond: number | undefined;
  /** Seconds from start until the whole body was committed as read (its window counts not yet all out). */
  readonly bodyCommittedAfter: number | undefined;
  /** The processes' CPU seconds at that moment. */
  readonly bodyCommittedCpuSeconds: number | undefined;
  /** Seconds from start until the first output record was read. */
  readonly firstOutputAfter: number | undefined;
  readonly reconciled: Reconciled;
  /** What went wrong (a process exited, a stall), with the processes' last stderr lines. */
  readonly problems: string[];
  readonly command: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runThroughput(broker: Broker, contender: Contender, o: RunOptions): Promise<RunResult> {
  const id = `ksb-${contender.engine === 'Sluice' ? 's' : 'k'}${contender.instances}x${contender.threads}-${randomUUID().slice(0, 6)}`;
  const run: RunNames = { id, input: `${id}-in`, output: `${id}-out` };
  const problems: string[] = [];
  await broker.createTopics([run.input, run.output], o.spec.partitions);
  const producedAt = performance.now();
  await produce(o.brokers, run.input, bodyRecords(o.spec));
  const produceSeconds = (performance.now() - producedAt) / 1000;
  const ends = await broker.endOffsets(run.input);
  const written = [...ends.values()].reduce((a, b) => a + b, 0);
  if (written !== o.spec.records) throw new Error(`the input topic ${run.input} holds ${written} records where ${o.spec.records} were written`);
  console.log(`  ${contender.engine} ${contender.instances}×${contender.threads}: input written (${o.spec.records.toLocaleString('en-US')} records in ${produceSeconds.toFixed(1)} s); starting: ${contender.command(run)}`);

  const reconciler = new Reconciler(o.expected);
  let processes: EngineProcess[] = [];
  let start = 0;
  let firstOutput: number | undefined;
  let complete: number | undefined;
  let cpu: number | undefined;
  let lastOutput = 0;
  const reader = new OutputReader(o.brokers, run.output, (r) => {
    lastOutput = r.readAt;
    firstOutput ??= r.readAt;
    reconciler.add(r.value);
    if (complete === undefined && reconciler.complete) {
      complete = r.readAt;
      cpu = processes.reduce((sum, p) => sum + cpuSeconds(p.pid), 0);
    }
  });
  await reader.start();

  start = performance.now();
  processes = contender.start(run);
  let bodyCommitted: number | undefined;
  let inputCpu: number | undefined;
  let lastProgress = start;
  let lastCommitted = -1;
  try {
    while (complete === undefined) {
      await sleep(100);
      const gone = processes.filter((p) => !running(p));
      if (gone.length > 0) {
        const how = (p: EngineProcess) => `${p.name} (${p.child.signalCode ? `signal ${p.child.signalCode}` : `exit code ${p.child.exitCode}`})`;
        problems.push(`${gone.map(how).join(', ')} exited before the output was complete`);
        break;
      }
      if (bodyCommitted === undefined) {
        const committed = await broker.committedOffsets(contender.group(run), run.input);
        const sum = [...committed.values()].reduce((a, b) => a + b, 0);
        if (sum !== lastCommitted) (lastCommitted = sum), (lastProgress = performance.now());
        if (reached(committed, ends)) {
          bodyCommitted = performance.now();
          inputCpu = processes.reduce((sum, p) => sum + cpuSeconds(p.pid), 0);
          await produce(o.brokers, run.input, closingRecordsOf(o.spec, o.latenessMs));
          lastProgress = performance.now();
        }
      }
      const now = performance.now();
      // Once the closing records are in, every window is due: output that stops short of complete for a while will not complete.
      const stallMs = bodyCommitted === undefined ? o.stallMs : o.quietStallMs;
      if (now - Math.max(lastProgress, lastOutput) > stallMs) {
        problems.push(
          `no progress for ${stallMs / 1000} s: ${bodyCommitted === undefined ? `the input is committed up to ${lastCommitted.toLocaleString('en-US')} of ${o.spec.records.toLocaleString('en-US')} records` : 'the whole input is committed, but the output is incomplete'}`,
        );
        break;
      }
    }
    if (complete !== undefined) await sleep(o.quietMs);
  } finally {
    for (const p of processes) if (!running(p) || problems.length > 0) problems.push(`${p.name} (pid ${p.pid}) stderr:\n${stderrTail(p)}`);
    await Promise.all(processes.map((p) => stopProcess(p)));
    await reader.close();
    if (reader.unreadable > 0) problems.push(`${reader.unreadable} output records were not JSON`);
    contender.cleanup?.(run);
    if (!o.keepTopics) await broker.deleteTopics([`${id}-`]).catch((e: unknown) => problems.push(`deleting the run's topics failed: ${(e as Error).message}`));
  }
  const seconds = complete === undefined ? undefined : (complete - start) / 1000;
  const result: RunResult = {
    engine: contender.engine,
    instances: contender.instances,
    threads: contender.threads,
    records: o.spec.records,
    seconds,
    recordsPerSec: seconds === undefined ? undefined : o.spec.records / seconds,
    cpuSeconds: cpu,
    recordsPerCpuSecond: cpu === undefined ? undefined : o.spec.records / cpu,
    bodyCommittedAfter: bodyCommitted === undefined ? undefined : (bodyCommitted - start) / 1000,
    bodyCommittedCpuSeconds: inputCpu,
    firstOutputAfter: firstOutput === undefined ? undefined : (firstOutput - start) / 1000,
    reconciled: reconciler.result(),
    problems,
    command: contender.command(run),
  };
  return result;
}
