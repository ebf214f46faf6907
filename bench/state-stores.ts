/**
 * `npx tsx bench/state-stores.ts [--keys N]`: embedded stores measured for the access
 * pattern of a keyed operator, to choose the engine under the on-disk state backend
 * (`src/state/disk/`). Prints a table of operations per second (median of 3 runs).
 *
 * Keys are laid out as the backend lays them out: 2 bytes of key group (big-endian), a
 * state id byte, the user key. Values are msgpack (numbers and small objects).
 *
 * - fill: put N keys, batches of 1,000 (lmdb: `transactionSync`; classic-level: `batch`).
 * - get: random point reads, synchronous (lmdb `get`, classic-level `getSync`).
 * - get+put: per record a random read, then a write, writes batched by 1,000: the
 *   read-modify-write of a keyed count.
 * - scan: whole key groups by range (a key-group range is one contiguous range).
 *
 * rocksdb-native is left out: `DEPENDENCIES.md` measured it (162 MB install, async-only
 * API, 24K single awaited gets/s), and a keyed operator needs synchronous reads.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { open } from 'lmdb';
import { Packr } from 'msgpackr';

const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf('--keys') + 1] ?? 0) || 1_000_000;
const OPS = Math.min(N, 500_000);
const BATCH = 1_000;
const GROUPS = 128;
const packr = new Packr({ useRecords: false });

function keyOf(i: number): Buffer {
  const b = Buffer.allocUnsafe(3 + 8);
  b.writeUInt16BE(i % GROUPS, 0);
  b[2] = 1;
  b.writeDoubleBE(i, 3);
  return b;
}
const valueOf = (i: number): unknown => (i % 2 === 0 ? i : { n: i, s: 'x', t: i * 2 });
const groupStart = (g: number): Buffer => Buffer.from([g >> 8, g & 0xff]);

/** A deterministic random sequence (no Math.random: runs compare). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Store {
  name: string;
  fill(): Promise<void>;
  get(): void;
  getPut(): Promise<void>;
  scan(): Promise<number>;
  close(): Promise<void>;
}

function lmdbStore(dir: string): Store {
  const db = open<unknown, Buffer>({ path: dir, keyEncoding: 'binary', encoder: packr, noSync: true, cache: false });
  return {
    name: 'lmdb',
    async fill() {
      for (let i = 0; i < N; i += BATCH) {
        db.transactionSync(() => {
          for (let j = i; j < Math.min(N, i + BATCH); j++) db.putSync(keyOf(j), valueOf(j));
        });
      }
    },
    get() {
      const r = rng(1);
      for (let i = 0; i < OPS; i++) db.get(keyOf(Math.floor(r() * N)));
    },
    async getPut() {
      const r = rng(2);
      for (let i = 0; i < OPS; i += BATCH) {
        const writes: Array<[Buffer, unknown]> = [];
        for (let j = 0; j < BATCH; j++) {
          const k = keyOf(Math.floor(r() * N));
          const v = db.get(k);
          writes.push([k, typeof v === 'number' ? v + 1 : v]);
        }
        db.transactionSync(() => {
          for (const [k, v] of writes) db.putSync(k, v);
        });
      }
    },
    async scan() {
      let n = 0;
      for (let g = 0; g < 16; g++) for (const _ of db.getRange({ start: groupStart(g), end: groupStart(g + 1) })) n++;
      return n;
    },
    async close() {
      await db.close();
    },
  };
}

function levelStore(dir: string): Store {
  const db = new ClassicLevel<Buffer, Uint8Array>(dir, { keyEncoding: 'buffer', valueEncoding: 'view' });
  return {
    name: 'classic-level',
    async fill() {
      for (let i = 0; i < N; i += BATCH) {
        const ops = [];
        for (let j = i; j < Math.min(N, i + BATCH); j++) ops.push({ type: 'put' as const, key: keyOf(j), value: packr.pack(valueOf(j)) });
        await db.batch(ops);
      }
    },
    get() {
      const r = rng(1);
      for (let i = 0; i < OPS; i++) {
        const v = db.getSync(keyOf(Math.floor(r() * N)));
        if (v !== undefined) packr.unpack(v);
      }
    },
    async getPut() {
      const r = rng(2);
      for (let i = 0; i < OPS; i += BATCH) {
        const ops = [];
        for (let j = 0; j < BATCH; j++) {
          const k = keyOf(Math.floor(r() * N));
          const raw = db.getSync(k);
          const v = raw === undefined ? 0 : packr.unpack(raw);
          ops.push({ type: 'put' as const, key: k, value: packr.pack(typeof v === 'number' ? v + 1 : v) });
        }
        await db.batch(ops);
      }
    },
    async scan() {
      let n = 0;
      for (let g = 0; g < 16; g++) {
        for await (const [, v] of db.iterator({ gte: groupStart(g), lt: groupStart(g + 1) })) {
          packr.unpack(v);
          n++;
        }
      }
      return n;
    },
    async close() {
      await db.close();
    },
  };
}

async function time(f: () => unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (perSec: number): string => (perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)}M` : `${(perSec / 1e3).toFixed(0)}K`);

const rows: string[][] = [];
for (const make of [lmdbStore, levelStore]) {
  const figures: Record<string, number[]> = { fill: [], get: [], getPut: [], scan: [] };
  let name = '';
  let size = 0;
  for (let run = 0; run < 3; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stores-'));
    const store = make(dir);
    name = store.name;
    figures.fill!.push(N / (await time(() => store.fill())));
    figures.get!.push(OPS / (await time(() => store.get())));
    figures.getPut!.push(OPS / (await time(() => store.getPut())));
    let n = 0;
    const s = await time(async () => (n = await store.scan()));
    figures.scan!.push(n / s);
    await store.close();
    size = duBytes(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push([name, fmt(median(figures.fill!)), fmt(median(figures.get!)), fmt(median(figures.getPut!)), fmt(median(figures.scan!)), `${(size / 2 ** 20).toFixed(0)} MB`]);
}

function duBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  return total;
}

console.log(`\nEmbedded stores, ${N.toLocaleString()} keys, ${OPS.toLocaleString()} random ops, batches of ${BATCH} (per second, median of 3)\n`);
const header = ['store', 'fill (put)', 'get (sync)', 'get+put', 'scan (key groups)', 'on disk'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
for (const r of rows) console.log(line(r));
