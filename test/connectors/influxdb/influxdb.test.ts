import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { influxSink, precisionFor, type InfluxPoint } from '../../../src/connectors/influxdb/index.js';
import { fixedDelay } from '../../../src/resilience/retry.js';
import type { Duration } from '../../../src/time/duration.js';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { INFLUXDB_SETUP_TIMEOUT_MS, ensureInfluxdb } from '../../setup/influxdb.js';

const URL_ = 'http://127.0.0.1:8086';
const run = `sluice_${randomUUID().slice(0, 8)}`;
const databases: string[] = [];
let seq = 0;
const freshDb = () => {
  const d = `${run}_${seq++}`;
  databases.push(d);
  return d;
};

async function influxql(q: string, db?: string): Promise<any> {
  const params = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
  const res = await fetch(`${URL_}/query`, { method: 'POST', body: params });
  const json = (await res.json()) as any;
  const err = json.error ?? json.results?.find((r: any) => r.error)?.error;
  if (err) throw new Error(err);
  return json;
}
/** The rows of a measurement as objects (time in ms). */
async function rows(db: string, measurement = 'm', rp?: string): Promise<Record<string, unknown>[]> {
  const json = await influxql(`SELECT * FROM ${rp ? `"${rp}".` : ''}"${measurement}"`, db);
  const s = json.results[0].series?.[0];
  if (!s) return [];
  return s.values.map((v: unknown[]) => Object.fromEntries(s.columns.map((c: string, i: number) => [c, v[i]])));
}

beforeAll(() => ensureInfluxdb(), INFLUXDB_SETUP_TIMEOUT_MS);
afterAll(async () => {
  for (const d of databases) await influxql(`DROP DATABASE "${d}"`).catch(() => {});
});

interface Reading {
  sensor: string;
  t: number;
  v: number;
}
const T0 = Date.UTC(2026, 0, 1);
const make = (i: number): Reading => ({ sensor: `s${i % 3}`, t: T0 + i * 1000, v: i / 4 });
const toPoint = (r: Reading): InfluxPoint => ({ measurement: 'm', tags: { sensor: r.sensor }, fields: { v: r.v }, time: r.t });

describeSink<Reading>('influxSink', {
  kind: 'idempotent',
  make,
  count: 300,
  prepare: async () => {
    const db = freshDb();
    return {
      sink: influxSink<Reading>({ database: db, point: toPoint, batchSize: 64 }),
      read: async () => (await rows(db)).map((r) => ({ sensor: r.sensor, t: r.time, v: r.v })),
    };
  },
});

describe('influxSink', () => {
  it('chooses the coarsest exact precision per request, and keeps microseconds and nanoseconds', async () => {
    expect(precisionFor([3_600_000_000_000n * 5n])).toBe('h');
    expect(precisionFor([60_000_000_000n, 3_600_000_000_000n])).toBe('m');
    expect(precisionFor([1_000_000_000n, 1_500_000_000n])).toBe('ms');
    expect(precisionFor([1_000_001n])).toBe('ns');
    const db = freshDb();
    const w = influxSink<InfluxPoint>({ database: db, point: (p) => p }).createWriter(testSinkContext({ transactional: true }));
    await w.open!();
    const points: InfluxPoint[] = [
      { measurement: 'p', tags: { k: 'us' }, fields: { v: 1 }, time: T0 + 0.123 }, // 123 µs after T0
      { measurement: 'p', tags: { k: 'ns' }, fields: { v: 2 }, time: BigInt(T0) * 1_000_000n + 7n },
      { measurement: 'p', tags: { k: 'h' }, fields: { v: 3 }, time: T0 + 3_600_000 },
    ];
    await w.write(points, [0, 0, 0]);
    await w.preCommit!(1);
    // Nanosecond times exceed a double: read them from the text as strings.
    const text = await (await fetch(`${URL_}/query?${new URLSearchParams({ db, q: 'SELECT k, v FROM p', epoch: 'ns' })}`)).text();
    const json = JSON.parse(text.replace(/\[(\d{16,})/g, '["$1"'));
    const got = json.results[0].series[0].values.map((r: unknown[]) => [r[0], r[1]]);
    expect(got).toEqual([
      [`${BigInt(T0) * 1_000_000n + 7n}`, 'ns'],
      [`${BigInt(T0) * 1_000_000n + 123_000n}`, 'us'],
      [`${BigInt(T0 + 3_600_000) * 1_000_000n}`, 'h'],
    ]);
    await w.close();
  });

  it('retries a write answered 503 and 429 (honouring Retry-After), then every point is there once', async () => {
    const db = freshDb();
    const answers = [503, 429];
    let writes = 0;
    // A fault injector in front of the real server: the first writes are refused, the rest forwarded.
    const proxy: Server = createServer((req, res) => {
      if (req.url?.startsWith('/write')) {
        writes++;
        const status = answers.shift();
        if (status) {
          req.resume();
          res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {}).end('{"error":"busy"}');
          return;
        }
      }
      const up = request(`${URL_}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const w = influxSink<Reading>({ url: `http://127.0.0.1:${port}`, database: db, point: toPoint, retry: fixedDelay(1, { maxAttempts: 3 }) }).createWriter(
        testSinkContext({ transactional: true }),
      );
      await w.open!();
      const values = Array.from({ length: 50 }, (_, i) => make(i));
      await w.write(values, values.map(() => 0));
      await w.preCommit!(1);
      expect(writes).toBe(3);
      expect((await rows(db)).map((r) => r.v).sort((a: any, b: any) => a - b)).toEqual(values.map((r) => r.v));

      // A server that stays busy: the sink gives up after maxAttempts, with the status in the error.
      answers.push(503, 503, 503);
      await w.write([make(99)], [0]);
      await expect(w.preCommit!(2)).rejects.toMatchObject({ code: 'SINK_FAILED', message: expect.stringMatching(/HTTP 503\).*still failing after 3 attempts: HTTP 503/) });
      await w.close();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('fails with the server message on a refused point (a field of another type), not silently', async () => {
    const db = freshDb();
    const w = influxSink<InfluxPoint>({ database: db, point: (p) => p }).createWriter(testSinkContext({ transactional: true }));
    await w.open!();
    await w.write([{ measurement: 'm', fields: { v: 1 }, time: T0 }], [0]);
    await w.preCommit!(1);
    await w.write([{ measurement: 'm', fields: { v: 'text' }, time: T0 + 1 }], [0]);
    await expect(w.preCommit!(2)).rejects.toMatchObject({ code: 'SINK_FAILED', message: expect.stringMatching(/HTTP 400.*field type conflict/) });
    expect(() => w.write([{ measurement: 'm', fields: { v: Number.NaN }, time: T0 }], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    expect(() => w.write([{ measurement: 'm', tags: { a: 'x\ny' }, fields: { v: 1 }, time: T0 }], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    await w.close();
  });

  it('escapes what line protocol needs escaped: spaces, commas and = in names and tags, quotes and backslashes in strings', async () => {
    const db = freshDb();
    const w = influxSink<InfluxPoint>({ database: db, point: (p) => p }).createWriter(testSinkContext({ transactional: true }));
    await w.open!();
    await w.write([{ measurement: 'cpu load,x', tags: { 'host name': 'a,b=c d' }, fields: { 'msg text': 'say "hi" \\ ok', n: 7n, ok: true }, time: T0 }], [0]);
    await w.preCommit!(1);
    await w.close();
    const json = await influxql('SELECT * FROM "cpu load,x"', db);
    const s = json.results[0].series[0];
    expect(Object.fromEntries(s.columns.map((c: string, i: number) => [c, s.values[0][i]]))).toEqual({ time: T0, 'host name': 'a,b=c d', 'msg text': 'say "hi" \\ ok', n: 7, ok: true });
  });

  it('declares its retention policy: created on first open, altered when the declaration changes, written into', async () => {
    const db = freshDb();
    const policies = async () => (await influxql(`SHOW RETENTION POLICIES ON "${db}"`)).results[0].series[0].values.map((v: unknown[]) => [v[0], v[1]]);
    const sinkWith = (duration: Duration) =>
      influxSink<Reading>({ database: db, point: (r) => ({ ...toPoint(r), time: Date.now() - 60_000 }), retentionPolicy: { name: 'short', duration } });
    const w1 = sinkWith('2d').createWriter(testSinkContext({ transactional: true }));
    await w1.open!();
    expect(await policies()).toContainEqual(['short', '48h0m0s']);
    await w1.write([make(1)], [0]);
    await w1.preCommit!(1);
    expect(await rows(db, 'm', 'short')).toHaveLength(1);
    await w1.close();
    const w2 = sinkWith('30d').createWriter(testSinkContext({ transactional: true }));
    await w2.open!();
    expect(await policies()).toContainEqual(['short', '720h0m0s']);
    await w2.close();
    expect(() => sinkWith('30m')).toThrow(/shortest retention is 1h/);
  });
});
