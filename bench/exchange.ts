/**
 * Exchange benchmark (`npm run bench:exchange`): how fast record batches cross from a
 * worker thread to the main thread, by method, for three record shapes. The rate counts
 * events the consumer has as usable JS values (decoded, timestamps as a number[]), with
 * at most `--window` batches in flight (a channel's capacity; the default 8 is the job
 * default), batches of `--batch` records (default 1024).
 *
 * Methods:
 * - clone: `postMessage` of the batch object (structured clone of the object arrays).
 * - msgpack: msgpackr records encode the values into a buffer copied out of the packer and
 *   transferred; timestamps travel as a transferred Float64Array.
 * - msgpack-reuse: as msgpack, but timestamps and packed values are copied into one buffer
 *   that the consumer gives back with its credit (a new ArrayBuffer per batch costs more
 *   than the copy).
 * - ring: msgpackr bytes and timestamps written into a SharedArrayBuffer ring; wake-ups by
 *   `Atomics.waitAsync`.
 * - typed (numbers only): values as a transferred Float64Array (the columnar ceiling).
 * - thread-channel: what Sluice uses, `src/runtime/exchange/thread-channel.ts` (returned
 *   buffers as msgpack-reuse, credit per microtask turn, and `batch-codec.ts`: columns for
 *   batches of one flat shape, msgpackr for the rest), driven as a task drives a channel.
 *
 * Besides the rate, the table shows the CPU time of the whole process (both threads, GC
 * included) per event: what the exchange takes from the operators on a busy machine,
 * and less sensitive than the rate to load from elsewhere.
 *
 * Options: `--bids N`, `--clicks N`, `--numbers N` (events per run; defaults 2,000,000,
 * 5,000,000 and 10,000,000), `--only bids,clicks,numbers`, `--runs N` (median of N rounds
 * after a warm-up round; default 5), `--window N`, `--batch N`.
 */
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { Packr, Unpackr } from 'msgpackr';
import type { Batch } from '../src/runtime/batch.js';
import { createThreadChannel, openThreadChannelReceiver, transferListOf } from '../src/runtime/exchange/thread-channel.js';
import { RingReader, createRing, type RingShared } from './exchange/ring.js';
import type { Method, ProducerData } from './exchange/producer.js';
import { checksum, makeBatches, toNumbers, type Shape } from './exchange/shapes.js';

const { values: opts } = parseArgs({
  options: {
    bids: { type: 'string' },
    clicks: { type: 'string' },
    numbers: { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string' },
    window: { type: 'string' },
    batch: { type: 'string' },
  },
});
const EVENTS: Record<Shape, number> = {
  bids: Number(opts.bids ?? 2_000_000),
  clicks: Number(opts.clicks ?? 5_000_000),
  numbers: Number(opts.numbers ?? 10_000_000),
};
const RUNS = Number(opts.runs ?? 5);
const WINDOW = Number(opts.window ?? 8);
const BATCH = Number(opts.batch ?? 1024);
const POOL = 64;
const WORKER = new URL('./exchange/worker.mjs', import.meta.url);

const METHODS: Record<Shape, Method[]> = {
  bids: ['clone', 'msgpack', 'msgpack-reuse', 'ring', 'thread-channel'],
  clicks: ['clone', 'msgpack-reuse', 'thread-channel'],
  numbers: ['clone', 'msgpack', 'msgpack-reuse', 'ring', 'typed', 'thread-channel'],
};

interface Consumer {
  /** Resolves with the checksum once `batches` batches have been decoded. */
  take(batches: number): Promise<number>;
}

/**
 * A consumer fed by events: `add` each decoded batch's checksum; `take(batches)` resolves
 * with their sum once that many have come.
 */
function countingConsumer(): Consumer & { add(checksum: number): void } {
  let left = 0;
  let sum = 0;
  let done: ((sum: number) => void) | undefined;
  return {
    add(checksum) {
      sum += checksum;
      if (--left === 0) done!(sum);
    },
    take(batches) {
      left = batches;
      sum = 0;
      return new Promise((resolve) => (done = resolve));
    },
  };
}

/** The receiving side of a port-based method: decodes, sums, and grants credit back. */
function portConsumer(method: Method, port: MessagePort): Consumer {
  const unpackr = new Unpackr();
  const consumer = countingConsumer();
  port.on('message', (m: { values?: unknown[] | Float64Array; timestamps?: number[]; bytes?: Uint8Array; ts?: Float64Array; buffer?: ArrayBuffer; n?: number; length?: number }) => {
    let values: unknown[];
    let timestamps: number[];
    if (method === 'clone') {
      values = m.values as unknown[];
      timestamps = m.timestamps!;
    } else if (method === 'typed') {
      values = toNumbers(m.values as Float64Array);
      timestamps = toNumbers(m.ts!);
    } else if (method === 'msgpack-reuse') {
      timestamps = toNumbers(new Float64Array(m.buffer!, 0, m.n!));
      values = unpackr.unpack(new Uint8Array(m.buffer!, 8 * m.n!, m.length!)) as unknown[];
    } else {
      values = unpackr.unpack(m.bytes!) as unknown[];
      timestamps = toNumbers(m.ts!);
    }
    if (method === 'msgpack-reuse') port.postMessage({ credit: 1, buffers: [m.buffer!] }, [m.buffer!]);
    else port.postMessage({ credit: 1 });
    consumer.add(checksum(values) + timestamps.length);
  });
  return consumer;
}

/** The receiving side of the ring: drains what is there, then waits for the writer. */
function ringConsumer(ring: RingShared): Consumer {
  const reader = new RingReader(ring);
  const unpackr = new Unpackr();
  return {
    async take(batches) {
      let sum = 0;
      const decode = (payload: Uint8Array, timestamps: number[]) => checksum(unpackr.unpack(payload) as unknown[]) + timestamps.length;
      while (batches > 0) {
        const s = reader.tryRead(decode);
        if (s === undefined) await reader.waitForData();
        else {
          sum += s;
          batches--;
        }
      }
      return sum;
    },
  };
}

/** The consuming end of a thread channel, drained as an input gate would: all there is, on each wake-up. */
function channelConsumer(endpoint: unknown): Consumer {
  const input = openThreadChannelReceiver<unknown>(endpoint);
  const consumer = countingConsumer();
  input.onData = () => {
    for (let e = input.shift(); e !== undefined; e = input.shift()) {
      if (e.kind === 'batch') consumer.add(checksum(e.batch.values) + e.batch.timestamps.length);
    }
  };
  return consumer;
}

function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A producing worker and its consumer, ready for runs. */
interface Contestant {
  readonly method: Method;
  /** Sends the run's batches and returns the rate; false checksum when the consumer saw other values. */
  run(): Promise<{ rate: number; cpuMicrosPerEvent: number; checksumOk: boolean }>;
  close(): Promise<void>;
}

async function start(shape: Shape, method: Method, pool: Batch<unknown>[]): Promise<Contestant> {
  const batches = Math.ceil(EVENTS[shape] / BATCH);
  let expected = 0;
  for (let i = 0; i < batches; i++) expected += checksum(pool[i % POOL]!.values) + BATCH;

  const { port1, port2 } = new MessageChannel();
  let ring: RingShared | undefined;
  if (method === 'ring') {
    // the same room as `window` batches in flight (rounded up to a power of two)
    const entry = 8 + 8 * BATCH + new Packr().pack(pool[0]!.values).length;
    ring = createRing(Math.max(1024, nextPow2(WINDOW * entry)));
  }
  const channel = method === 'thread-channel' ? createThreadChannel(WINDOW) : undefined;
  const data: ProducerData = { method, shape, batchSize: BATCH, poolSize: POOL, window: WINDOW, port: port2, ring, endpoint: channel?.sender };
  const worker = new Worker(WORKER, { workerData: data, transferList: [port2, ...(channel ? transferListOf(channel.sender) : [])] });
  const messages: string[] = [];
  let notify: (() => void) | undefined;
  worker.on('message', (m: string) => {
    messages.push(m);
    notify?.();
  });
  worker.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
  const next = async (): Promise<string> => {
    while (messages.length === 0) await new Promise<void>((resolve) => (notify = resolve));
    return messages.shift()!;
  };
  await next(); // ready
  const consumer = method === 'ring' ? ringConsumer(ring!) : channel ? channelConsumer(channel.receiver) : portConsumer(method, port1);
  return {
    method,
    async run() {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const got = consumer.take(batches);
      worker.postMessage({ batches });
      const sum = await got;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      await next(); // sent
      const events = batches * BATCH;
      return { rate: events / seconds, cpuMicrosPerEvent: (cpu.user + cpu.system) / events, checksumOk: sum === expected };
    },
    async close() {
      port1.close();
      await worker.terminate();
    },
  };
}

function fmt(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M` : `${(rate / 1e3).toFixed(0)}K`;
}

console.log(
  `# exchange benchmark: worker -> main thread, batches of ${BATCH}, window ${WINDOW} batches, median of ${RUNS} runs, node ${process.version}`,
);
const rows: string[][] = [];
const json: object[] = [];
const shapes = (opts.only?.split(',') ?? ['bids', 'clicks', 'numbers']) as Shape[];
for (const shape of shapes) {
  const pool = makeBatches(shape, POOL, BATCH);
  const contestants: Contestant[] = [];
  for (const method of METHODS[shape]) contestants.push(await start(shape, method, pool));
  // Runs go round the methods (a warm-up round first), so that load from elsewhere on the
  // machine falls on all of them alike rather than on whichever ran at the time.
  const rates = contestants.map((): number[] => []);
  const cpus = contestants.map((): number[] => []);
  const ok = contestants.map(() => true);
  for (let run = 0; run <= RUNS; run++) {
    for (const [i, c] of contestants.entries()) {
      process.stderr.write(`${shape}/${c.method} run ${run}/${RUNS}\n`);
      const r = await c.run();
      if (run > 0) rates[i]!.push(r.rate);
      if (run > 0) cpus[i]!.push(r.cpuMicrosPerEvent);
      if (!r.checksumOk) ok[i] = false;
    }
  }
  for (const c of contestants) await c.close();
  const base = median(rates[0]!);
  for (const [i, c] of contestants.entries()) {
    const rate = median(rates[i]!);
    const cpu = median(cpus[i]!);
    rows.push([shape, c.method, fmt(rate), `${(rate / base).toFixed(2)}x`, cpu.toFixed(3), rates[i]!.map(fmt).join(' / '), ok[i] ? 'ok' : 'MISMATCH']);
    json.push({
      shape,
      method: c.method,
      eventsPerSec: Math.round(rate),
      ratioToClone: Math.round((rate / base) * 100) / 100,
      cpuMicrosPerEvent: Math.round(cpu * 1000) / 1000,
      runs: rates[i]!.map(Math.round),
      checksumOk: ok[i],
    });
  }
}
const header = ['shape', 'method', 'events/s', 'vs clone', 'cpu µs/event', 'runs', 'checksum'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
for (const j of json) console.log(JSON.stringify(j));
