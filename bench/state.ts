/**
 * `npm run bench -- state [--keys N] [--events N] [--cache N] [--only memory,lmdb,rocksdb,redis]`:
 * the keyed state backends side by side in one run, one table, targets of issue 19 beside
 * the figures (Redis: the real one on 127.0.0.1:6379).
 *
 * - keyed count: `--events` records (default 1M, after a first pass that writes every key) over `--keys` keys (default 1M), each a
 *   `value()` then `update(+1)`, as a keyed count operator does; records/s and the share of
 *   the memory backend's (targets: LMDB and RocksDB >= 50%, Redis with its cache >= 25%).
 * - checkpoint every second: the same count with a checkpoint started each second (memory:
 *   `snapshot()` serialized to a file, as the checkpoint storage does; the others:
 *   `checkpointTo`, incremental), running beside the count; the throughput lost (target < 10%).
 * - recovery: a fresh backend restores the last of those checkpoints (1M keys), then reads
 *   one key: the time to that first answer (target < 2 s for the embedded backends).
 * - disk: bytes of the backend's working files after the run (Redis: used_memory).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { serialize } from 'node:v8';
import { valueState } from '../src/state/descriptors.js';
import { DiskStateBackend } from '../src/state/disk/lmdb-backend.js';
import { RocksDbStateBackend } from '../src/state/disk/rocksdb-backend.js';
import { RedisStateBackend } from '../src/state/external/redis-backend.js';
import { MemoryStateBackend } from '../src/state/memory-backend.js';
import type { KeyedStateBackend, KeyedStateHandle, KeyedStateSnapshot } from '../src/state/types.js';
import { ManualClock } from '../src/time/clock.js';

/** A keyed count of `events` records over `keys` keys in a fixed stride (every key revisited, in an order a cache cannot predict). */
export function keyedCount(b: KeyedStateBackend, events: number, keys: number, from = 0): { seconds: number; checksum: number } {
  const count = b.getState(valueState<number>('count', { defaultValue: 0 }));
  const t0 = performance.now();
  let checksum = 0;
  const stride = 7_919;
  for (let i = from; i < from + events; i++) {
    b.setCurrentKey(`user-${(i * stride) % keys}`);
    const n = count.value()! + 1;
    count.update(n);
    checksum += n;
  }
  return { seconds: (performance.now() - t0) / 1000, checksum };
}

interface Candidate {
  name: string;
  /** Target share of the memory backend's keyed count. */
  target: number;
  make(): KeyedStateBackend;
  checkpoint(b: KeyedStateBackend, id: number): Promise<Restorable>;
  restore(fresh: KeyedStateBackend, cp: Restorable): Promise<void>;
  bytes(b: KeyedStateBackend): Promise<number>;
  cleanup?(): Promise<void>;
}
type Restorable = { handle: KeyedStateHandle } | { snapshot: KeyedStateSnapshot };

export async function runStateBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { keys: { type: 'string' }, events: { type: 'string' }, cache: { type: 'string' }, only: { type: 'string' } } });
  const KEYS = Number(values.keys ?? 1_000_000);
  const EVENTS = Number(values.events ?? 1_000_000);
  const CACHE = Number(values.cache ?? 100_000);
  const only = values.only?.split(',');
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  let n = 0;
  const dir = (): string => join(root, `b${n++}`);
  const clock = new ManualClock(0);
  const prefix = `sluice-bench:state:${process.pid}`;
  let redis: import('ioredis').Redis | undefined;
  const embedded = (name: string, make: () => DiskStateBackend): Candidate => ({
    name,
    target: 0.5,
    make,
    checkpoint: async (b, id) => ({ handle: await (b as DiskStateBackend).checkpointTo(dir(), id) }),
    restore: (fresh, cp) => (fresh as DiskStateBackend).restoreHandle((cp as { handle: KeyedStateHandle }).handle),
    bytes: async (b) => (b as DiskStateBackend).store.engine.diskBytes(),
  });
  const all: Candidate[] = [
    {
      name: 'memory',
      target: 1,
      make: () => new MemoryStateBackend({ clock }),
      checkpoint: async (b, id) => {
        const snapshot = b.snapshot();
        writeFileSync(join(root, 'memory-checkpoint.bin'), serialize(snapshot)); // one file, overwritten: as retention keeps one
        return { snapshot };
      },
      restore: async (fresh, cp) => fresh.restore((cp as { snapshot: KeyedStateSnapshot }).snapshot),
      bytes: async () => 0,
    },
    embedded(`LMDB (cache ${CACHE.toLocaleString()})`, () => new DiskStateBackend({ clock, path: dir(), cacheSize: CACHE })),
    embedded(`RocksDB (cache ${CACHE.toLocaleString()})`, () => new RocksDbStateBackend({ clock, path: dir(), cacheSize: CACHE })),
    {
      name: `Redis (local cache ${CACHE.toLocaleString()} + LMDB)`,
      target: 0.25,
      make: () => new RedisStateBackend({ clock, path: dir(), cacheSize: CACHE, redis: redis!, prefix: `${prefix}:${n}` }),
      checkpoint: async (b, id) => ({ handle: await (b as RedisStateBackend).checkpointTo('', id) }),
      restore: (fresh, cp) => (fresh as RedisStateBackend).restoreHandle((cp as { handle: KeyedStateHandle }).handle),
      bytes: async () => Number(/used_memory:(\d+)/.exec(await redis!.info('memory'))?.[1] ?? 0),
      cleanup: async () => {
        let cursor = '0';
        do {
          const [next, keys] = await redis!.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis!.del(...keys);
        } while (cursor !== '0');
      },
    },
  ];
  const candidates = all.filter((c) => only === undefined || only.some((o) => c.name.toLowerCase().startsWith(o.toLowerCase())));
  if (candidates.some((c) => c.name.startsWith('Redis'))) {
    const { Redis } = await import('ioredis');
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  }

  console.log(`node ${process.version}; keyed count of ${EVENTS.toLocaleString()} records over ${KEYS.toLocaleString()} keys; checkpoints every second; recovery of the last checkpoint (${KEYS.toLocaleString()} keys)`);
  console.log('| backend | keyed count | share of memory (target) | with a checkpoint each second | loss (target < 10%) | checkpoints (full/incremental) | recovery to first read | files |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  let memoryRate = 0;
  try {
    for (const c of candidates) {
      // 1. Plain keyed count; the state is then warm (every key written once at least).
      const plain = c.make();
      keyedCount(plain, KEYS, KEYS); // warm-up: every key present, as in a running job
      const p = keyedCount(plain, EVENTS, KEYS, KEYS);
      const plainRate = EVENTS / p.seconds;
      if (c.name === 'memory') memoryRate = plainRate;
      await dispose(plain);
      // 2. The same with a checkpoint started each second, beside the count.
      const b = c.make();
      keyedCount(b, KEYS, KEYS);
      await c.checkpoint(b, 0); // the first full checkpoint of the warm state, as a running job has one
      const t0 = performance.now();
      let last = t0;
      let pending: Promise<Restorable> | undefined;
      let latest: Restorable | undefined;
      let id = 1;
      const kinds = { full: 0, incremental: 0 };
      const chunk = 20_000;
      for (let done = 0; done < EVENTS; done += chunk) {
        keyedCount(b, Math.min(chunk, EVENTS - done), KEYS, KEYS + done);
        if (pending === undefined && performance.now() - last >= 1000) {
          last = performance.now();
          pending = c.checkpoint(b, id++).then((cp) => {
            latest = cp;
            if ('handle' in cp) kinds[cp.handle.incremental ? 'incremental' : 'full']++;
            else kinds.full++;
            pending = undefined;
            return cp;
          });
        }
        await yieldToLoop(); // the checkpoint's copy runs between chunks, as it does between records in a job
      }
      const cpSeconds = (performance.now() - t0) / 1000;
      await pending;
      latest ??= await c.checkpoint(b, id++);
      const cpRate = EVENTS / cpSeconds;
      // 3. Recovery of the latest checkpoint into a fresh backend, to the first answer.
      const fresh = c.make();
      const r0 = performance.now();
      await c.restore(fresh, latest);
      fresh.setCurrentKey('user-0');
      const first = fresh.getState(valueState<number>('count', { defaultValue: 0 })).value();
      const recovery = (performance.now() - r0) / 1000;
      if (first === undefined || first < 1) throw new Error(`${c.name}: the restored state has no count for user-0`);
      const bytes = await c.bytes(b);
      const share = memoryRate === 0 ? 0 : plainRate / memoryRate;
      const loss = 1 - cpRate / plainRate;
      console.log(
        `| ${c.name} | ${mps(plainRate)} | ${c.name === 'memory' ? 'baseline' : `${pct(share)} (>= ${pct(c.target)}) ${share >= c.target ? 'met' : 'missed'}`} | ${mps(cpRate)} | ${pct(loss)} ${loss < 0.1 ? 'met' : 'missed'} | ${kinds.full}/${kinds.incremental} | ${recovery.toFixed(2)} s${c.target === 0.5 ? (recovery < 2 ? ' (< 2 s met)' : ' (< 2 s missed)') : ''} | ${(bytes / 2 ** 20).toFixed(0)} MiB |`,
      );
      await dispose(b);
      await dispose(fresh);
      await c.cleanup?.();
    }
  } finally {
    redis?.disconnect();
    rmSync(root, { recursive: true, force: true });
  }
}

async function dispose(b: KeyedStateBackend): Promise<void> {
  if (b instanceof DiskStateBackend) await b.destroy();
  else b.dispose();
}

const mps = (r: number): string => `${(r / 1e6).toFixed(2)}M/s`;
const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
