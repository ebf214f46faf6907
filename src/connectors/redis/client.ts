import type { Redis } from 'ioredis';
import { resolveSecret, scrubSecrets } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { RedisConnection } from './connection.js';
import { loadOptional } from '../shared/optional-client.js';

/** Connects (lazily) and waits until the connection is ready; a failure is SOURCE_FAILED or SINK_FAILED. */
export async function connectRedis(conn: RedisConnection, step: string, side: 'source' | 'sink' | 'lookup'): Promise<Redis> {
  const url = await resolveSecret(conn.url ?? 'redis://127.0.0.1:6379', `redis ${side} '${step}': url`);
  // Loaded on first use, like every connector's client: see `kafka/client.ts`.
  const { Redis } = await loadOptional('ioredis', 'the Redis connectors', () => import('ioredis'));
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: false });
  client.on('error', () => {}); // surfaced through the commands that fail
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new SluiceError(side === 'sink' ? 'SINK_FAILED' : 'SOURCE_FAILED', `redis ${side} '${step}': cannot connect to ${scrubSecrets(`${url}: ${(e as Error).message}`, [url])}`, {
      hint: 'Start Redis (scripts/services.sh) or fix the url.',
      step,
    });
  }
  return client;
}

/** Redis stream ids compare as (ms, seq) pairs. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const d = BigInt(am!) - BigInt(bm!);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as) - BigInt(bs);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}
