/**
 * The HTTP source with a durable log, against a real server on a real socket: what was
 * answered 202 is on disk, even when the disk fills, and a torn tail is cut on reopen.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { httpSource, type HttpSourceReader } from '../../../src/connectors/http/index.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { ManualClock } from '../../../src/time/clock.js';
import { mountTmpfs, until } from './helpers.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Order {
  id: number;
  pad?: string;
}

/** Starts a source on `logDir` and says where it listens. */
async function start(logDir: string): Promise<{ reader: HttpSourceReader<Order>; url: string }> {
  const source = httpSource<Order>({ port: 0, durableLog: logDir });
  const reader = source.createReader(testSourceContext({ maxPollWaitMs: 5 }));
  cleanups.push(() => reader.close());
  await reader.open!();
  return { reader, url: (await source.address()).url };
}

/** Everything a restarted source replays from the log (it stops once the queue is empty). */
async function replayed(logDir: string): Promise<number[]> {
  const { reader } = await start(logDir);
  const ids: number[] = [];
  for (;;) {
    const batch = await reader.poll();
    if (batch.values.length === 0) break;
    ids.push(...batch.values.map((o) => o.id));
  }
  await reader.close();
  return ids;
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

describe('httpSource with a durable log', () => {
  it('on a full disk: answers 503 STORAGE_FULL, and every record answered 202 is in the log after a restart', async (ctx) => {
    const fs = mountTmpfs(256 * 1024);
    if ('skip' in fs) return ctx.skip(fs.skip);
    cleanups.push(() => fs.unmount());
    const ballast = join(fs.dir, 'ballast');
    writeFileSync(ballast, Buffer.alloc(64 * 1024));
    const logDir = join(fs.dir, 'log');
    const { url } = await start(logDir);

    const acked: number[] = [];
    const refusals: Array<{ status: number; retryAfter: string | null; body: { code?: string; error?: string } }> = [];
    let next = 0;
    // 8 clients, 1 to 3 records of ~1 KB a request, until the full disk has refused 30 requests.
    const client = async (): Promise<void> => {
      while (refusals.length < 30) {
        const ids = Array.from({ length: 1 + (next % 3) }, () => next++);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(ids.map((id) => ({ id, pad: 'x'.repeat(1000) }))),
        });
        if (res.status === 202) acked.push(...ids);
        else refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code?: string } });
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));

    expect(acked.length).toBeGreaterThan(50);
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('STORAGE_FULL');
      expect(r.body.error).toContain('nothing was accepted');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // The process goes away (what survives is the file), a new one replays the log.
    for (const c of cleanups.splice(1)) await c();
    expect(sorted(await replayed(logDir))).toEqual(sorted(acked));

    // Room again: once its backoff has passed the source takes records again, after the others.
    unlinkSync(ballast);
    const { url: again } = await start(logDir);
    await until(async () => (await fetch(again, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"id":-1}' })).status === 202);
    for (const c of cleanups.splice(1)) await c();
    expect(sorted(await replayed(logDir))).toEqual(sorted([...acked, -1]));
  });

  it('cuts a torn tail on reopen, says so in a process warning, and replays the whole records', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'sluice-http-log-'));
    cleanups.push(() => rmSync(logDir, { recursive: true, force: true }));
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, 'ingest.log'), '{"id":1}\n{"id":2}\n{"id":3}\n{"id":4,"pa');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    cleanups.push(() => void process.off('warning', onWarning));

    expect(await replayed(logDir)).toEqual([1, 2, 3]);
    await until(() => warnings.length > 0); // warnings are emitted on the next tick
    expect(warnings[0]).toMatchObject({ code: 'INGEST_LOG_TORN' });
    expect(warnings[0]!.message).toContain('cut 11 bytes at offset 27');

    const { url } = await start(logDir);
    expect((await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"id":5}' })).status).toBe(202);
    for (const c of cleanups.splice(2)) await c();
    expect(await replayed(logDir)).toEqual([1, 2, 3, 5]);
    expect(warnings).toHaveLength(1); // the log was whole the second time
  });

  it('a poll waits while records are being logged, rather than coming back empty at once (it would spin until the fsync ends)', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'sluice-http-log-'));
    cleanups.push(() => rmSync(logDir, { recursive: true, force: true }));
    const source = httpSource<Order>({ port: 0, durableLog: logDir });
    // Time never moves: a poll can only end because records are ready.
    const reader = source.createReader(testSourceContext({ clock: new ManualClock(0), maxPollWaitMs: 60_000 }));
    cleanups.push(() => reader.close());
    await reader.open!();
    const { url } = await source.address();
    const posts = Promise.all(
      Array.from({ length: 50 }, (_, id) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id }) })),
    );
    await until(() => reader.queued > 0); // places held: the first requests are being logged
    const got: number[] = [];
    let empty = 0;
    while (got.length < 50) {
      const { values } = await reader.poll();
      if (values.length === 0) empty++;
      got.push(...values.map((o) => o.id));
    }
    expect(empty).toBe(0);
    expect((await posts).map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 202));
    expect(sorted(got)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
