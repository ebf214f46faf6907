/**
 * The Redis backend against the real Redis (127.0.0.1:6379, started by test/setup/services.ts):
 * the shared backend suite, checkpoints as versioned hashes compared with the state at the
 * barrier (fast-check), a crash between writing a version and completing the checkpoint,
 * and rescaling 2 -> 3 -> 1 by key group without writing to Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisStateBackend } from '../../../src/state/external/redis-backend.js';
import { describeStateBackend } from '../../../src/testing/index.js';
import type { ManualClock } from '../../../src/time/clock.js';
import { externalBackendCases, MAXP } from './external-cases.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-redis-state-'));
const run = `sluice-test:state:${process.pid}-${Date.now()}`;
let n = 0;
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
const make = (clock: ManualClock, prefix = `${run}:p${n}`): RedisStateBackend =>
  new RedisStateBackend({ clock, redis, prefix, maxParallelism: MAXP, path: join(root, `b${n++}`), cacheSize: 50 });

async function keysUnder(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

afterAll(async () => {
  const keys = await keysUnder(run);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  redis.disconnect();
  rmSync(root, { recursive: true, force: true });
});

describeStateBackend('redis (local cache of 50 entries)', (clock) => make(clock));

externalBackendCases('redis', make, {
  run,
  stored: async (prefix) => (await keysUnder(prefix)).length,
  unmark: async (version) => {
    await redis.del(`${version}:written`);
  },
});
