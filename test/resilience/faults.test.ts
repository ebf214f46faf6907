import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, SluiceError, collectSink, dependency, fixedDelay, generator, lookupJoin, transactionalFileSink } from '../../src/index.js';
import { httpLookup } from '../../src/connectors/http/index.js';
import { postgresSink } from '../../src/connectors/postgres/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { committedLines } from '../checkpoint/helpers.js';

/**
 * Resilience against real services behind a FaultProxy: Redis for an async step,
 * PostgreSQL for a sink, an HTTP service for a lookup join. The faults come on a
 * wall-clock schedule; nothing here asserts a time, only what the job did.
 */

const run = `sluice_faults_${randomUUID().slice(0, 8)}`;
const direct = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
beforeAll(async () => {
  await direct.connect();
  await db.connect();
});
afterAll(async () => {
  const keys = await direct.keys(`${run}:*`);
  if (keys.length > 0) await direct.del(...keys);
  await direct.quit();
  await db.query(`DROP TABLE IF EXISTS ${run}`);
  await db.query(`DELETE FROM sluice_sink_checkpoints WHERE sink LIKE '${run}%'`).catch(() => {});
  await db.end();
});

/** Whether an attempt's signal was aborted by the step's timeout. */
const timedOut = (signal: AbortSignal) => signal.reason instanceof SluiceError && signal.reason.code === 'ASYNC_TIMEOUT';

describe('a job across Redis and PostgreSQL faults and a restart', () => {
  it('times out, opens and closes the breakers, retries, restarts, and loses or doubles no record', async () => {
    const N = 3_000;
    const pipe = direct.pipeline();
    for (let i = 0; i < N; i++) pipe.set(`${run}:${i}`, String(i * 7));
    await pipe.exec();
    await db.query(`CREATE TABLE ${run} (id integer PRIMARY KEY, v integer NOT NULL)`);

    const redisProxy = await FaultProxy.start({ target: { port: 6379 } });
    const pgProxy = await FaultProxy.start({ target: { port: 5432 } });
    const client = new Redis({ host: '127.0.0.1', port: redisProxy.port, maxRetriesPerRequest: null });
    const redisDep = dependency(`${run}-redis`, { breaker: { consecutiveFailures: 3, halfOpenAfter: '150ms' } });
    const pgDep = dependency(`${run}-pg`, { breaker: { consecutiveFailures: 1, halfOpenAfter: '100ms' } });
    let timeouts = 0;
    let restarts = 0;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
    const job = new Job({
      name: 'faults',
      batchSize: 64,
      checkpoints: { interval: '50ms', dir: join(dir, 'checkpoints') },
      delivery: 'exactly-once',
      restart: { strategy: 'fixed-delay', attempts: 5, delay: '200ms' },
    });
    const enriched = job
      .source(generator({ make: (i) => i, count: N, ratePerSecond: 2_000 }), { uid: 'ids' })
      .asyncMap(
        async (i: number, ctx) => {
          ctx.signal.addEventListener('abort', () => timedOut(ctx.signal) && timeouts++);
          return { id: i, v: Number(await client.get(`${run}:${i}`)) };
        },
        { uid: 'enrich', mode: 'unordered', capacity: 20, timeout: '100ms', retry: fixedDelay('50ms', { maxAttempts: 400 }), dependency: redisDep },
      );
    enriched.sinkTo(
      postgresSink<{ id: number; v: number }>({
        connectionString: `postgres://postgres@127.0.0.1:${pgProxy.port}/postgres`,
        table: run,
        key: ['id'],
        columns: ['id', 'v'],
        row: (r) => [r.id, r.v],
        dependency: pgDep,
      }),
      { uid: `${run}-pg` },
    );
    enriched.map((r) => `${r.id}:${r.v}`).sinkTo(transactionalFileSink<string>(join(dir, 'out')), { uid: 'file' });

    redisProxy.schedule([
      { after: '250ms', fault: { blackhole: true } },
      { after: '750ms', fault: 'heal' },
    ]);
    pgProxy.schedule([{ after: '1000ms', fault: 'reset' }]);
    try {
      await job.start({ onRestart: () => restarts++ }).done;
    } finally {
      client.disconnect();
      await redisProxy.close();
      await pgProxy.close();
    }

    expect(timeouts).toBeGreaterThan(0);
    expect(redisDep.stats.transitions.open).toBeGreaterThanOrEqual(1);
    expect(redisDep.stats.transitions.closed).toBeGreaterThanOrEqual(1);
    expect(redisDep.stats.rejectedOpen).toBeGreaterThan(0);
    expect(redisDep.state).toBe('closed');
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(pgDep.stats.transitions.open).toBeGreaterThanOrEqual(1);
    expect(pgDep.state).toBe('closed');
    const expected = Array.from({ length: N }, (_, i) => `${i}:${i * 7}`).sort();
    expect(committedLines(dir).map((l) => JSON.parse(l) as string)).toEqual(expected);
    const rows = (await db.query<{ id: number; v: number }>(`SELECT id, v FROM ${run} ORDER BY id`)).rows;
    expect(rows.map((r) => `${r.id}:${r.v}`).sort()).toEqual(expected);
  }, 60_000);
});

describe('a lookup join against an HTTP service behind the proxy', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const id = Number(req.url!.split('/').pop());
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id, name: `user-${id}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('times out on latency, opens the breaker on refused connections, closes it once healed, and every record is joined', async () => {
    const N = 600;
    const proxy = await FaultProxy.start({ target: { port } });
    const users = dependency(`${run}-http`, { breaker: { consecutiveFailures: 3, halfOpenAfter: '150ms' } });
    const out = collectSink<string>();
    const job = new Job({ name: 'http-faults', batchSize: 32 });
    lookupJoin(job.source(generator({ make: (i) => String(i), count: N, ratePerSecond: 600 }), { uid: 'ids' }), httpLookup<{ name: string }>({ url: (id) => `http://127.0.0.1:${proxy.port}/users/${id}` }), {
      uid: 'users',
      key: (id) => id,
      join: (id, u) => `${id}:${u!.name}`,
      onMiss: 'dead-letter',
      cache: { maxEntries: 0, ttl: '1m' },
      mode: 'unordered',
      capacity: 20,
      timeout: '100ms',
      retry: fixedDelay('50ms', { maxAttempts: 400 }),
      dependency: users,
    }).sinkTo(out, { uid: 'out' });
    job.deadLetters().sinkTo(collectSink(), { uid: 'letters' });

    proxy.schedule([
      { after: '200ms', fault: { latency: '300ms' } },
      { after: '500ms', fault: 'refuse' },
      { after: '500ms', fault: 'reset' },
      { after: '900ms', fault: 'heal' },
    ]);
    try {
      await job.start().done;
    } finally {
      await proxy.close();
    }
    expect(users.stats.transitions.open).toBeGreaterThanOrEqual(1);
    expect(users.stats.transitions.closed).toBeGreaterThanOrEqual(1);
    expect(users.stats.rejectedOpen).toBeGreaterThan(0);
    expect(users.state).toBe('closed');
    expect([...out.values].sort()).toEqual(Array.from({ length: N }, (_, i) => `${i}:user-${i}`).sort());
  }, 60_000);
});
