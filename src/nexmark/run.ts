import { writeFileSync } from 'node:fs';
import { Job } from '../launch/job.js';
import type { DataStream } from '../api/data-stream.js';
import { callbackSink } from '../connectors/callback/index.js';
import { fileSource } from '../connectors/file/source.js';
import { jsonlFileSink } from '../connectors/file/sink.js';
import type { Source } from '../connectors/source.js';
import { SluiceError } from '../errors/index.js';
import { WatermarkStrategy } from '../time/watermark-strategy.js';
import type { NexmarkEvent } from './events.js';
import type { GeneratorConfig } from './generator.js';
import { NexmarkGenerator } from './generator.js';
import { LatencyRecorder } from './latency.js';
import { QUERIES, type QueryName } from './queries/index.js';
import { nexmarkSource } from './source.js';

/** The standard watermark: event time minus 4 s. */
export const DEFAULT_WATERMARK_DELAY_MS = 4000;

export type NexmarkInput =
  | ({ readonly kind: 'generate'; readonly events: number; readonly ratePerSecond?: number } & Partial<GeneratorConfig>)
  | { readonly kind: 'file'; readonly path: string };

export interface NexmarkRunOptions {
  readonly query: QueryName;
  readonly input: NexmarkInput;
  /** Watermark = max event time − this − 1. Default: 4 s, or more when the generator's disorder needs it. */
  readonly watermarkDelayMs?: number;
  /** Write the result rows here (JSONL; the file is replaced). */
  readonly out?: string;
  /** Keep the result rows in memory and return them (tests, reconciliation). */
  readonly collect?: boolean;
  /** Records per batch between steps (the job's batchSize). */
  readonly batchSize?: number;
  /** Subtasks per step, on as many threads. Default 1. */
  readonly parallelism?: number;
}

/** The one JSON line `sluice nexmark run` prints. */
export interface NexmarkReport {
  query: QueryName;
  events: number;
  outputRows: number;
  seconds: number;
  eventsPerSecond: number;
  cpuSeconds: number;
  eventsPerCpuSecond: number;
  latencyP50Ms?: number | undefined;
  latencyP99Ms?: number | undefined;
  latencySamples?: number;
}

/** The delay a generated input needs: the standard 4 s, or the disorder of its out-of-order groups if larger. */
export function watermarkDelayFor(config: Partial<GeneratorConfig>): number {
  return Math.max(DEFAULT_WATERMARK_DELAY_MS, new NexmarkGenerator(config).maxDisorderMs());
}

/** What a run's sinks report to the thread that runs them (the main thread). */
interface NexmarkHooks {
  onRow(row: object, timestamp: number): void;
  onInput(): void;
}

/**
 * Builds the job of one Nexmark run: the same in every thread of a parallel run (worker
 * threads build it from this module's default export, without hooks; the result sinks run
 * in the main thread only, as single-instance sinks).
 */
export function nexmarkJob(options: NexmarkRunOptions, hooks?: NexmarkHooks): { job: Job; delayMs: number; events: number | undefined; paced: boolean } {
  const info = QUERIES[options.query];
  if (!info) throw new SluiceError('INVALID_ARGUMENT', `unknown Nexmark query '${String(options.query)}'`);
  const { input } = options;
  let source: Source<NexmarkEvent>;
  let events: number | undefined;
  let delay = options.watermarkDelayMs;
  const paced = input.kind === 'generate' && input.ratePerSecond !== undefined;
  if (input.kind === 'generate') {
    const { kind: _k, events: n, ratePerSecond, ...config } = input;
    if (paced) {
      // Event time runs at the pace, starting at the first event: an event's dateTime is when
      // it is due (see latency.ts and nexmarkSource).
      config.rate ??= ratePerSecond;
    }
    source = nexmarkSource({ events: n, ...config, ...(ratePerSecond === undefined ? {} : { ratePerSecond }) });
    events = n;
    delay ??= watermarkDelayFor(config);
  } else {
    source = fileSource<NexmarkEvent>(input.path, { format: 'jsonl' });
  }
  delay ??= DEFAULT_WATERMARK_DELAY_MS;

  const job = new Job({
    name: `nexmark-${options.query}`,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    parallelism: options.parallelism ?? 1,
    module: import.meta.url,
  });
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<NexmarkEvent>(delay).withTimestampAssigner((e) => e.dateTime);
  let stream: DataStream<NexmarkEvent> = job.source(source, { uid: 'nexmark-events', watermarks: strategy });
  if (input.kind === 'file') {
    stream = stream.map((e) => {
      hooks?.onInput();
      return e;
    }, { uid: 'count-input', parallelism: 1 });
  }
  const result = info.build(stream);
  result.sinkTo(
    callbackSink<object>((row, ts) => hooks?.onRow(row, ts)),
    { uid: 'results' },
  );
  if (options.out !== undefined) {
    if (hooks) writeFileSync(options.out, '');
    result.sinkTo(jsonlFileSink<object>(options.out), { uid: 'results-file' });
  }
  return { job, delayMs: delay, events, paced };
}

/** Worker threads of a parallel run build the job from here (see `nexmarkJob`). */
export default (args: string[]) => nexmarkJob(JSON.parse(args[0]!) as NexmarkRunOptions).job;

/**
 * Runs one Nexmark query over generated events or a JSONL file of events, and reports
 * throughput (wall and CPU, of the whole process: every thread of a parallel run) and,
 * for a paced run, latency.
 *
 * @example
 * const { report } = await runNexmark({ query: 'q5', input: { kind: 'generate', events: 100_000, rate: 10_000 } });
 */
export async function runNexmark(options: NexmarkRunOptions): Promise<{ report: NexmarkReport; rows?: object[] }> {
  const rows: object[] | undefined = options.collect ? [] : undefined;
  let latency: LatencyRecorder | undefined;
  let counted = 0;
  let outputRows = 0;
  const readyAt = QUERIES[options.query]?.readyAt;
  let delay = 0;
  const { job, delayMs, events, paced } = nexmarkJob(options, {
    onInput: () => counted++,
    onRow(row, ts) {
      outputRows++;
      rows?.push(row);
      if (latency) latency.record(readyAt ? readyAt(row) + delay : ts);
    },
  });
  delay = delayMs;
  if (paced) latency = new LatencyRecorder();

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await job.run({ moduleArgs: [JSON.stringify({ ...options, collect: false })] });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const n = events ?? counted;
  const report: NexmarkReport = {
    query: options.query,
    events: n,
    outputRows,
    seconds: round(seconds, 3),
    eventsPerSecond: Math.round(n / seconds),
    cpuSeconds: round(cpuSeconds, 3),
    eventsPerCpuSecond: Math.round(n / cpuSeconds),
  };
  if (latency) {
    const s = latency.summary();
    report.latencyP50Ms = s.latencyP50Ms;
    report.latencyP99Ms = s.latencyP99Ms;
    report.latencySamples = s.latencySamples;
  }
  return rows ? { report, rows } : { report };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
