/**
 * A keyed running count that fails once and restarts from its latest checkpoint, on the
 * RocksDB and Redis backends (the LMDB one: test/state/disk/release.test.ts): the committed
 * output is exactly the batch answer, so the restored state was exactly the checkpoint's.
 * On Redis, the restart restores from Redis (the failed attempt's local cache is deleted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { committedLines } from '../../checkpoint/helpers.js';
import { EVENTS, KEYS, build, closeRedis, type BackendName } from '../../fixtures/jobs/disk-state-job.js';

const dirs: string[] = [];
const roots: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(async () => {
  closeRedis();
  // The Redis versions the runs wrote (their keys start with the run's root directory).
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  for (const root of roots) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `sluice-test:job:${root}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
  redis.disconnect();
});

const expected = (): string[] => Array.from({ length: EVENTS }, (_, i) => `${i % KEYS}:${Math.floor(i / KEYS) + 1}`).sort();

describe('a keyed job that fails once restarts from its checkpoint with exact output', () => {
  it.each<[BackendName, number]>([
    ['rocksdb', 1],
    ['rocksdb', 2],
    ['redis', 1],
  ])('on %s at parallelism %i', async (backend, parallelism) => {
    const root = mkdtempSync(join(tmpdir(), `sluice-recovery-${backend}-`));
    dirs.push(root);
    roots.push(root);
    const failAt = EVENTS / 2;
    const job = build(root, parallelism, failAt, backend);
    const running = job.start({ moduleArgs: [root, String(parallelism), String(failAt), backend] });
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(running.restarts).toBe(1);
    expect(committedLines(root).map((l) => JSON.parse(l) as string)).toEqual(expected());
  }, 60_000);
});
