import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependency } from '../../src/index.js';
import { postgresSink } from '../../src/connectors/postgres/index.js';
import { redisSink } from '../../src/connectors/redis/index.js';
import { ManualClock, testSinkContext } from '../../src/testing/index.js';

/**
 * The PostgreSQL and Redis sinks with a dependency, against the real services: a write
 * goes through the breaker, counts as its success or failure, and is refused at once
 * (nothing written) while the breaker is open; a probe after `halfOpenAfter` closes it.
 */
const run = `sluice_sinkdep_${randomUUID().slice(0, 8)}`;
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
beforeAll(async () => {
  await redis.connect();
  await db.connect();
  await db.query(`CREATE TABLE ${run} (id integer PRIMARY KEY, v text NOT NULL)`);
});
afterAll(async () => {
  const keys = await redis.keys(`${run}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await db.query(`DROP TABLE IF EXISTS ${run}`);
  await db.query(`DELETE FROM sluice_sink_checkpoints WHERE sink LIKE '${run}%'`).catch(() => {});
  await db.end();
});

/** Opens a breaker: `n` failed calls in a row. */
async function trip(d: ReturnType<typeof dependency>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await d.execute(() => Promise.reject(new Error('down'))).catch(() => {});
}

describe('sinks with a dependency', () => {
  it('redisSink: writes pass the breaker; while it is open a write is refused with CIRCUIT_OPEN and nothing is written', async () => {
    const clock = new ManualClock(0);
    const d = dependency(`${run}-redis-sink`, { breaker: { consecutiveFailures: 2, halfOpenAfter: '1s' } });
    const writer = redisSink<{ id: number }>({ target: { type: 'hash', key: (r) => `${run}:${r.id}` }, dependency: d }).createWriter(testSinkContext({ clock }));
    await writer.open?.();
    await writer.write([{ id: 1 }], [Number.NaN]);
    await writer.flush?.();
    expect(await redis.hget(`${run}:1`, 'id')).toBe('1');
    await trip(d, 2);
    expect(d.state).toBe('open');
    await expect(Promise.resolve(writer.write([{ id: 2 }], [Number.NaN])).then(() => writer.flush?.())).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(await redis.exists(`${run}:2`)).toBe(0);
    clock.advance(1_000);
    await writer.write([{ id: 3 }], [Number.NaN]);
    await writer.flush?.();
    expect(d.state).toBe('closed');
    expect(await redis.hget(`${run}:3`, 'id')).toBe('3');
    await writer.close();
  });

  it('postgresSink: a transaction refused by the open breaker writes nothing; a probe closes it and the rows land', async () => {
    const clock = new ManualClock(0);
    const d = dependency(`${run}-pg-sink`, { breaker: { consecutiveFailures: 1, halfOpenAfter: '1s' } });
    const writer = postgresSink<{ id: number; v: string }>({ table: run, key: ['id'], columns: ['id', 'v'], row: (r) => [r.id, r.v], dependency: d }).createWriter(
      testSinkContext({ clock, uid: `${run}-pg` }),
    );
    await writer.open?.();
    await trip(d, 1);
    await writer.write([{ id: 1, v: 'a' }], [Number.NaN]);
    await expect(writer.flush!()).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect((await db.query(`SELECT count(*)::int AS n FROM ${run}`)).rows[0].n).toBe(0);
    clock.advance(1_000);
    await writer.write([{ id: 2, v: 'b' }], [Number.NaN]);
    await writer.flush!();
    expect(d.state).toBe('closed');
    // The refused rows were dropped from the buffer with the failed transaction: the job fails and replays them after its restart.
    expect((await db.query(`SELECT id, v FROM ${run} ORDER BY id`)).rows).toEqual([{ id: 2, v: 'b' }]);
    await writer.close();
  });
});
