import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../launch/job.js';
import type { DeadLetter } from '../../runtime/dead-letter-queue.js';
import type { BadRecordPolicy, IngestStats } from '../../connectors/shared/ingest.js';
import { collectSink } from '../../connectors/collect/index.js';
import type { Source, SourceReader } from '../../connectors/source.js';
import { drain, testSourceContext } from '../connector-context.js';
import { memoryTwoPhaseSink } from './memory-2pc-sink.js';
import { vitest } from '../vitest.js';

/** What a source case prepares: a medium holding the input (unique names), and sources over it. */
export interface PreparedSource<T> {
  /** A source over the prepared medium; `onBadRecord` is passed when the case supports it. */
  source(opts?: { onBadRecord?: BadRecordPolicy }): Source<T> & { readonly stats?: IngestStats };
  /** Deletes what `prepare` made (a stream, a topic, files); the suite calls it after its tests and ignores a failure. */
  cleanup?(): Promise<void>;
}

/** What {@link describeSource} needs to test a source: what it promises, the records, and how to put them in a fresh medium. */
export interface SourceCase<T> {
  /** What the source promises across a crash with checkpoints. */
  guarantee: 'exactly-once' | 'at-least-once' | 'at-most-once';
  /**
   * Whether the source ends once it has read the prepared input (default false). A
   * bounded source is also checked for reading everything, in order, at every batch size
   * and then staying done, reading the same again from a new reader, and closing twice.
   */
  bounded?: boolean;
  /** The i-th record of the input (JSON-comparable). */
  make(i: number): T;
  /** Fills a fresh medium with `values`, with the raw message `bad.get(i)` placed before values[i]. */
  prepare(values: T[], bad: Map<number, Uint8Array>): Promise<PreparedSource<T>>;
  /**
   * Whether the medium can hold raw messages that do not decode (default true). A source
   * of values in memory (a collection, a generator) cannot: the bad-record checks are skipped.
   */
  badRecords?: boolean;
  /** The `onBadRecord` policies the source takes (none: it only reports through `ctx.badRecord`). */
  policies?: BadRecordPolicy[];
  /** Records per test (default 2000). */
  count?: number;
  /** How long to wait for records (default 20 s). */
  timeoutMs?: number;
}

const key = (v: unknown): string => JSON.stringify(v);
const sortedKeys = (vs: unknown[]): string[] => vs.map(key).sort();

/** Polls `reader` until `enough(values)` or the reader is done; fails after `timeoutMs`. */
async function readUntil<T>(reader: SourceReader<T>, enough: (n: number, values: T[]) => boolean, timeoutMs: number): Promise<{ values: T[]; done: boolean }> {
  const values: T[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await reader.poll();
    values.push(...b.values);
    if (b.done) return { values, done: true };
    if (enough(values.length, values)) return { values, done: false };
    if (Date.now() > deadline) throw new Error(`read ${values.length} records, then nothing more within ${timeoutMs} ms`);
  }
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The contract every source keeps, as one shared suite (Hono's shared router suite): it
 * says what it is; replay from a checkpointed position without loss, and its declared
 * guarantee through a real job that fails once and restarts from its checkpoints; bad
 * records under every policy, through a reader and through a job; and, when bounded,
 * `maxBatchSize` at every batch size, `done` that stays done, the same values again from
 * a new reader, and a harmless second close.
 *
 * @example
 * describeSource('fromCollection', { guarantee: 'exactly-once', bounded: true, badRecords: false, make: (i) => ({ i }), prepare: async (values) => ({ source: () => fromCollection(values) }) });
 * describeSource('redis stream', { guarantee: 'exactly-once', make: (i) => ({ i }), prepare: async (values, bad) => … });
 */
export function describeSource<T>(name: string, c: SourceCase<T>): void {
  const { afterAll, describe, expect, it } = vitest();
  const n = c.count ?? 2000;
  const timeoutMs = c.timeoutMs ?? 20_000;
  const values = Array.from({ length: n }, (_, i) => c.make(i));
  const cleanups: Array<() => Promise<void>> = [];
  const prepare = async (bad = new Map<number, Uint8Array>()) => {
    const p = await c.prepare(values, bad);
    if (p.cleanup) cleanups.push(p.cleanup);
    return p;
  };

  describe(`${name} keeps the source contract (${c.guarantee}${c.bounded ? ', bounded' : ''})`, () => {
    afterAll(async () => {
      for (const f of cleanups) await f().catch(() => {});
    });

    it('says what it is', async () => {
      const source = (await prepare()).source();
      expect(source.bounded).toBe(c.bounded ?? false);
      expect(typeof source.kind).toBe('string');
      expect(source.kind.length).toBeGreaterThan(0);
      expect(typeof source.describe?.()).toBe('string');
    });

    for (const maxBatchSize of [1, 2, 7, 1000]) {
      it.runIf(c.bounded)(`reads everything in batches of at most ${maxBatchSize}, then stays done`, async () => {
        const source = (await prepare()).source();
        const reader = source.createReader(testSourceContext({ maxBatchSize }));
        await reader.open?.();
        const sizes: number[] = [];
        const read: T[] = [];
        for (let polls = 0; ; polls++) {
          expect(polls).toBeLessThan(n + 10);
          const batch = await reader.poll();
          sizes.push(batch.values.length);
          read.push(...batch.values);
          if (batch.timestamps) expect(batch.timestamps).toHaveLength(batch.values.length);
          if (batch.done) break;
        }
        expect(read.map(key)).toEqual(values.map(key));
        expect(Math.max(...sizes)).toBeLessThanOrEqual(maxBatchSize);
        expect(await reader.poll()).toMatchObject({ values: [], done: true });
        await reader.close();
        await reader.close();
      });
    }

    it.runIf(c.bounded)('reads the same again from a new reader', async () => {
      const source = (await prepare()).source();
      for (let round = 0; round < 2; round++) {
        const reader = source.createReader(testSourceContext());
        await reader.open?.();
        expect((await drain(reader)).values.map(key)).toEqual(values.map(key));
        await reader.close();
      }
    });

    it.skipIf(c.guarantee === 'at-most-once')('continues from a checkpointed position without loss', async () => {
      const p = await prepare();
      const source = p.source();
      expect(source.replayable).toBe(true);
      const first = source.createReader(testSourceContext({ maxBatchSize: 64 }));
      await first.open?.();
      const a = await readUntil(first, (k) => k >= n * 0.4, timeoutMs);
      const position = structuredClone(first.snapshotPosition!(1));
      await first.close();
      const second = source.createReader({ ...testSourceContext({ maxBatchSize: 64 }), restoredPosition: position });
      await second.open?.();
      // At-least-once: the second reader may read again what the first did; read until every record has come.
      const complete = (k: number, vs: T[]) => (c.guarantee === 'exactly-once' ? a.values.length + k >= n : new Set([...a.values, ...vs].map(key)).size >= n);
      const b = a.done ? { values: [] as T[] } : await readUntil(second, complete, timeoutMs);
      await second.close();
      const all = [...a.values, ...b.values];
      if (c.guarantee === 'exactly-once') expect(all.map(key)).toEqual(values.map(key));
      else expect(new Set(all.map(key))).toEqual(new Set(values.map(key)));
    });

    it.skipIf(c.guarantee === 'at-most-once')(`delivers ${c.guarantee} through a job that fails once and restarts from its checkpoints`, async () => {
      const p = await prepare();
      const sink = memoryTwoPhaseSink<T>();
      const failAt = key(values[Math.floor(n * 0.6)]);
      let failed = false;
      let restarts = 0;
      const job = new Job({
        name: `suite-${name}`,
        batchSize: 64,
        checkpoints: { interval: '20ms', dir: join(mkdtempSync(join(tmpdir(), 'sluice-suite-')), 'cp') },
        delivery: c.guarantee === 'exactly-once' ? 'exactly-once' : 'at-least-once',
        restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
      });
      job
        .source(p.source(), { uid: 'in' })
        .map((v) => {
          if (!failed && key(v) === failAt) {
            failed = true;
            throw new Error('injected failure');
          }
          return v;
        })
        .sinkTo(sink, { uid: 'out' });
      const running = job.start({ onRestart: () => restarts++ });
      const ended = running.done.then(() => true);
      await until(() => sink.committed.length >= n, timeoutMs, () => `committed ${sink.committed.length} of ${n}`);
      await new Promise((r) => setTimeout(r, 100)); // anything doubled would show now
      running.cancel();
      await ended;
      expect(failed).toBe(true);
      expect(restarts).toBe(1);
      if (c.guarantee === 'exactly-once') expect(sortedKeys(sink.committed)).toEqual(sortedKeys(values));
      else expect(new Set(sink.committed.map(key))).toEqual(new Set(values.map(key)));
    }, 60_000);

    const badAt = new Map<number, Uint8Array>([
      [3, new TextEncoder().encode('{not json')],
      [Math.floor(n / 2), new Uint8Array([0xff, 0x00, 0x7b])],
    ]);
    const good = n;

    const withBadRecords = c.badRecords ?? true;

    it.runIf(withBadRecords)('reports bad records to ctx.badRecord with their raw bytes and position, and carries on', async () => {
      const p = await prepare(badAt);
      const ctx = testSourceContext({ maxBatchSize: 100 });
      const reader = p.source({ onBadRecord: c.policies ? 'dead-letter' : undefined }).createReader(ctx);
      await reader.open?.();
      const { values: got } = await readUntil(reader, (k) => k >= good, timeoutMs);
      await reader.close();
      expect(got.map(key)).toEqual(values.map(key));
      expect(ctx.badRecords).toHaveLength(2);
      // Raw bytes as they came, or (a text source) the text they decode to.
      const asSeen = (raw: string | Uint8Array, like: unknown) => (typeof like === 'string' ? String(raw) : Buffer.from(raw).toString('hex'));
      const seen = ctx.badRecords.map((b) => b.raw);
      expect(seen.map((r) => asSeen(r, r))).toEqual([...badAt.values()].map((b, i) => asSeen(typeof seen[i] === 'string' ? new TextDecoder().decode(b) : b, seen[i])));
      for (const b of ctx.badRecords) expect(b.position.length).toBeGreaterThan(0);
    });

    it.runIf(withBadRecords)('with the job routing failures to dead letters, bad records arrive there and good ones in the sink', async () => {
      const p = await prepare(badAt);
      const job = new Job({ name: `suite-dl-${name}`, onError: 'dead-letter' });
      const out = collectSink<T>();
      const dead = collectSink<DeadLetter>();
      job.source(p.source({ onBadRecord: c.policies ? 'dead-letter' : undefined }), { uid: 'in' }).sinkTo(out);
      job.deadLetters().sinkTo(dead);
      const running = job.start();
      await until(() => out.count >= good && dead.count >= 2, timeoutMs, () => `${out.count} records, ${dead.count} dead letters`);
      running.cancel();
      await running.done.catch(() => {});
      expect(sortedKeys(out.values)).toEqual(sortedKeys(values));
      expect(dead.values.map((d) => d.error.code)).toEqual(['BAD_RECORD', 'BAD_RECORD']);
      expect(dead.values.every((d) => d.step === 'in' && typeof d.position === 'string')).toBe(true);
    });

    it.runIf(withBadRecords)('with the job failing on errors, a bad record fails the job with BAD_RECORD', async () => {
      const p = await prepare(badAt);
      const job = new Job({ name: `suite-fail-${name}` });
      job.source(p.source(), { uid: 'in' }).sinkTo(collectSink<T>());
      await expect(job.run()).rejects.toThrow(/BAD_RECORD/);
    });

    it.runIf(withBadRecords && c.policies?.includes('fail'))("onBadRecord: 'fail' fails the job even when it routes failures to dead letters", async () => {
      const p = await prepare(badAt);
      const job = new Job({ name: `suite-pfail-${name}`, onError: 'dead-letter' });
      job.source(p.source({ onBadRecord: 'fail' }), { uid: 'in' }).sinkTo(collectSink<T>());
      job.deadLetters().sinkTo(collectSink<DeadLetter>());
      await expect(job.run()).rejects.toThrow(/BAD_RECORD.*onBadRecord: 'fail'/s);
    });

    it.runIf(withBadRecords && c.policies?.includes('skip'))("onBadRecord: 'skip' drops bad records, counts them, and the job carries on", async () => {
      const p = await prepare(badAt);
      const source = p.source({ onBadRecord: 'skip' });
      const job = new Job({ name: `suite-skip-${name}` });
      const out = collectSink<T>();
      job.source(source, { uid: 'in' }).sinkTo(out);
      const running = job.start();
      await until(() => out.count >= good, timeoutMs, () => `${out.count} records`);
      running.cancel();
      await running.done;
      expect(sortedKeys(out.values)).toEqual(sortedKeys(values));
      expect(source.stats).toMatchObject({ bad: 2, skipped: 2 });
    });
  });
}
