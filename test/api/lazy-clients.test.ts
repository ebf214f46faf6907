/**
 * Importing Sluice loads no broker or database client: each connector loads its client
 * when a reader or writer opens, so `import 'sluice'` and every worker thread of a
 * parallel run start without them (Redis, MQTT, NATS and PostgreSQL together cost about
 * 0.12 s of module loading: `import src/index` went from 370 to 254 ms).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

describe('connector clients load lazily', () => {
  it('a fresh process that imports the library has none of them in its module cache', async () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(`${root}src/index.ts`)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      // CommonJS clients (the Kafka client is an ES module, which this cache does not list; it loads through loadKafkaClient).
      const clients = ['ioredis', 'mqtt', '/pg/', '@nats-io', '@duckdb'];
      console.log(JSON.stringify(clients.filter((c) => loaded.some((m) => m.includes(c)))));
    `;
    // Awaited, not spawnSync: the child compiles TypeScript (1 s, several on a busy machine),
    // and a synchronous wait would hold this worker's event loop, and Vitest's RPC, all along.
    // A non-zero exit rejects with the child's stderr in the message.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([]);
  }, 30_000);
});
