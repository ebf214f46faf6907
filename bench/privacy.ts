/**
 * `npm run bench -- privacy [--records N]`: the personal-data operators beside their plain peers,
 * in one run (issue 17's targets: `mask` within 10% of a plain `map`, `encryptFields` ≥
 * 500,000 fields/s per core, `tokenize` with a warm cache ≥ 1,000,000 records/s per core).
 *
 * - mask: a job `fromCollection → map → count` where the map copies the record (what a
 *   pipeline without masking does), beside the same job with `.mask(['card'], 'partial')`.
 * - encryptFields: three fields per record, subject keys warm, through the async function
 *   (as `asyncMap` calls it) and through the synchronous core, beside raw AES-256-GCM with
 *   `node:crypto` (one createCipheriv per field, the same work without Sluice).
 * - tokenize: a Redis vault warmed with every value, through `tokenizeCached` (the sync
 *   warm path) and `tokenize` (awaited per record), beside a plain `Map` lookup per field.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataStream } from '../src/api/data-stream.js';
import { Job } from '../src/launch/job.js';
import { fromCollection } from '../src/connectors/collection/index.js';
import { RedisTokenVault } from '../src/connectors/redis/index.js';
import { FileKeyStore } from '../src/privacy/file-key-store.js';
import { SubjectKeys } from '../src/privacy/subject-keys.js';
import { encryptFields, encryptWith } from '../src/privacy/encrypt-fields.js';
import { tokenize, tokenizeCached } from '../src/privacy/tokenize.js';
import { countTo } from './count-sink.js';

const { values } = parseArgs({ args: process.argv.slice(3), options: { records: { type: 'string' } } });
const N = Number(values.records ?? 200_000);
const RUNS = 3;

interface Rec {
  userId: string;
  email: string;
  card: string;
  amount: number;
}
const records: Rec[] = Array.from({ length: N }, (_, i) => ({ userId: `u${i % 1000}`, email: `user${i % 5000}@example.com`, card: `41111111${String(10_000_000 + (i % 100_000))}`, amount: i % 997 }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => `${(n / 1e6).toFixed(2)}M/s`;

async function best(fn: () => Promise<number>): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) rates.push(await fn());
  return median(rates);
}

async function jobRate(step: (s: DataStream<Rec>) => DataStream<Rec>): Promise<number> {
  const job = new Job({ name: 'bench-privacy' });
  const { sink, all } = countTo<Rec>(N);
  step(job.source(fromCollection(records), { uid: 'in' })).sinkTo(sink, { uid: 'out' });
  const started = performance.now();
  const running = job.start();
  await all;
  const rate = N / ((performance.now() - started) / 1000);
  await running.done;
  return rate;
}

async function loopRate(count: number, fn: (r: Rec, i: number) => unknown): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const out = fn(records[i]!, i);
    if (out instanceof Promise) await out;
  }
  return count / ((performance.now() - started) / 1000);
}

console.log(`privacy operators, ${N.toLocaleString()} records, median of ${RUNS} runs (Node ${process.version})\n`);

// mask vs a plain map.
const plain = await best(() => jobRate((s) => s.map((r) => ({ ...r }), { uid: 'copy' })));
const masked = await best(() => jobRate((s) => s.mask(['card'], 'partial', { uid: 'mask' })));
console.log(`mask ('partial', 1 field) in a job: ${fmt(masked)} records  | plain map (record copy): ${fmt(plain)}  | mask/map ${(masked / plain).toFixed(2)} (target ≥ 0.90)`);

// encryptFields.
const keys = new SubjectKeys({ store: new FileKeyStore(join(mkdtempSync(join(tmpdir(), 'bench-keys-')), 'keys.json')), masterKey: randomBytes(32).toString('hex'), cacheTtlMs: 3_600_000 });
for (let u = 0; u < 1000; u++) await keys.keyOf(`u${u}`, true);
const FIELDS = ['email', 'card', 'amount'] as const;
const encrypt = encryptFields<Rec>(FIELDS, { subject: 'userId', keys });
const encAsync = await best(() => loopRate(N * FIELDS.length, (r) => encrypt(r)));
const encSync = await best(() => loopRate(N * FIELDS.length, (r) => encryptWith(r, FIELDS, keys.cached(r.userId)!)));
const rawKey = randomBytes(32);
const raw = await best(() =>
  loopRate(N * FIELDS.length, (r) => {
    for (const f of FIELDS) {
      const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12));
      c.update(JSON.stringify(r[f]));
      c.final();
      c.getAuthTag();
    }
  }),
);
console.log(`encryptFields (3 fields, keys warm): ${fmt(encAsync)} fields awaited per record, ${fmt(encSync)} sync core  | raw AES-256-GCM per field: ${fmt(raw)}  | target ≥ 0.50M fields/s`);
await keys.close();

// tokenize with a warm cache.
const vault = new RedisTokenVault({ url: 'redis://127.0.0.1:6379', hash: `sluice:bench-vault:${process.pid}`, key: 'bench-key' });
const tok = tokenize<Rec>(['email'], vault);
for (let i = 0; i < 5000; i++) await tok(records[i]!);
const cachedTok = tokenizeCached<Rec>(['email'], vault);
const warmSync = await best(() => loopRate(N, (r) => cachedTok(r)));
const warmAsync = await best(() => loopRate(N, (r) => tok(r)));
const map = new Map(records.slice(0, 5000).map((r) => [r.email, vault.cached(r.email)!]));
const mapRate = await best(() => loopRate(N, (r) => ({ ...r, email: map.get(r.email) })));
console.log(`tokenize (1 field, warm cache): ${fmt(warmSync)} records sync warm path, ${fmt(warmAsync)} awaited per record  | plain Map lookup + copy: ${fmt(mapRate)}  | target ≥ 1.00M/s`);
await vault.close();
const { Redis } = await import('ioredis');
const r = new Redis('redis://127.0.0.1:6379');
await r.del(`sluice:bench-vault:${process.pid}`);
r.disconnect();
