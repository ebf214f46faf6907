/**
 * A small load for the HTTP source (not a test: it prints figures). Starts an
 * `httpSource` with a durable log in a temporary directory, a reader that drains it, and
 * a load generator on a worker thread (its own core) that keeps `--connections` requests
 * in flight over keep-alive connections for `--seconds`, each a JSON array of `--records`
 * records. Prints requests/s, records/s, latency percentiles and, where the source
 * reports them, how many fsyncs the log made (group commit: far fewer than requests).
 *
 *   npx tsx bench/http-ingest.ts --connections 64 --seconds 10 --records 1
 *   npx tsx bench/http-ingest.ts --no-durable     (no log: the ceiling)
 *
 * `--dir DIR` puts the log in DIR (default: a new directory under the OS temp dir).
 * `bench/tls.ts` runs the same load over HTTPS ({@link ingestLoad} with `tls`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { httpSource } from '../src/connectors/http/index.js';
import type { ServerTlsOptions } from '../src/index.js';
import { testSourceContext } from '../src/testing/index.js';

interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  records: number;
  /** The CA the client trusts (PEM), for an https URL. */
  ca?: string;
}
interface LoadResult {
  ok: number;
  refused: Record<string, number>;
  latencies: number[];
  elapsedMs: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

/**
 * The load generator, run on a worker thread. Plain JavaScript in a string: a worker does
 * not inherit tsx's loader, so it cannot load this TypeScript file.
 */
const GENERATOR = `
const { parentPort, workerData: spec } = require('node:worker_threads');
const { Agent, request } = require(spec.url.startsWith('https:') ? 'node:https' : 'node:http');
const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, ca: spec.ca });
const url = new URL(spec.url);
const result = { ok: 0, refused: {}, latencies: [], elapsedMs: 0 };
let id = 0;
const started = performance.now();
const until = started + spec.seconds * 1000;
const one = () => new Promise((resolve) => {
  const body = JSON.stringify(Array.from({ length: spec.records }, () => ({ id: id++, payload: 'x'.repeat(64) })));
  const t0 = performance.now();
  const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode === 202) { result.ok++; result.latencies.push(performance.now() - t0); }
      else { const k = String(res.statusCode); result.refused[k] = (result.refused[k] || 0) + 1; }
      resolve();
    });
  });
  req.on('error', (e) => { result.refused[e.message] = (result.refused[e.message] || 0) + 1; resolve(); });
  req.end(body);
});
const lane = async () => { while (performance.now() < until) await one(); };
Promise.all(Array.from({ length: spec.connections }, lane)).then(() => {
  result.elapsedMs = performance.now() - started;
  agent.destroy();
  parentPort.postMessage(result);
});
`;

/** What one load run measured. */
export interface IngestLoadFigures {
  durable: boolean;
  tls: boolean;
  connections: number;
  seconds: number;
  recordsPerRequest: number;
  requestsPerSecond: number;
  recordsPerSecond: number;
  latencyMs: { p50: string; p99: string; max: string };
  acceptedRequests: number;
  refused: Record<string, number>;
  logSyncs: number;
}

/**
 * One load run against a fresh `httpSource` (over HTTPS with `tls`, the client trusting
 * `ca`), drained by a reader while a worker thread keeps `connections` requests in flight.
 */
export async function ingestLoad(o: { connections: number; seconds: number; records: number; durable: boolean; dir?: string; tls?: ServerTlsOptions; ca?: string }): Promise<IngestLoadFigures> {
  const { connections, seconds, records, durable } = o;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'sluice-load-'));

  const source = httpSource({ port: 0, queueCapacity: 100_000, ...(durable ? { durableLog: dir } : {}), ...(o.tls ? { tls: o.tls } : {}) });
  const ctx = testSourceContext({ maxBatchSize: 10_000, maxPollWaitMs: 20 });
  const reader = source.createReader(ctx);
  await reader.open!();
  const { url } = await source.address();
  let polling = true;
  const drained = (async () => {
    while (polling) {
      await reader.poll();
      await new Promise((resolve) => setImmediate(resolve)); // as the engine's task loop does now and then
    }
  })();

  const worker = new Worker(GENERATOR, { eval: true, workerData: { url, connections, seconds, records, ca: o.ca } satisfies LoadSpec });
  const r = await new Promise<LoadResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  polling = false;
  await drained;
  const stats = source.stats() as unknown as Record<string, number>;
  await reader.close();
  if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });

  const lat = r.latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (lat.length === 0 ? '-' : lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!.toFixed(2));
  const secs = r.elapsedMs / 1000;
  return {
    durable,
    tls: o.tls !== undefined,
    connections,
    seconds,
    recordsPerRequest: records,
    requestsPerSecond: Math.round(r.ok / secs),
    recordsPerSecond: Math.round((r.ok * records) / secs),
    latencyMs: { p50: pct(50), p99: pct(99), max: pct(100) },
    acceptedRequests: r.ok,
    refused: r.refused,
    logSyncs: stats.logSyncs!,
  };
}

// Run as a script (`npx tsx bench/http-ingest.ts`), not imported by bench/tls.ts.
if (process.argv[1]?.endsWith('http-ingest.ts')) {
  const dirArg = process.argv.indexOf('--dir');
  const figures = await ingestLoad({
    connections: arg('connections', 64),
    seconds: arg('seconds', 10),
    records: arg('records', 1),
    durable: !process.argv.includes('--no-durable'),
    ...(dirArg < 0 ? {} : { dir: process.argv[dirArg + 1]! }),
  });
  console.log(JSON.stringify(figures, null, 2));
}
