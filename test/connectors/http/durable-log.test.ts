import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableLog } from '../../../src/connectors/http/durable-log.js';
import { ManualClock } from '../../../src/time/clock.js';
import { mountTmpfs } from './helpers.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openLog(dir: string, clock = new ManualClock(0)): Promise<DurableLog> {
  const log = new DurableLog(dir, { clock });
  await log.open();
  cleanups.push(() => log.close());
  return log;
}

/** The lines of a log file, each parsed: throws on a torn or unparseable line. */
function linesOf(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the log ends with a whole line').toBe(true);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as unknown);
}

describe('DurableLog', () => {
  it('resolves appends in order, one fsync per group of appends that arrived while the previous one was written (group commit)', async () => {
    const log = await openLog(tempDir());
    const ends = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([JSON.stringify({ i })])));
    // The first append is written alone; the 49 that arrived meanwhile share the second write and fsync.
    expect(log.syncs).toBe(2);
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    expect(new Set(ends).size).toBe(50);
    expect(ends.at(-1)).toBe(log.length);
    expect((await log.readFrom(0)).map((l) => JSON.parse(l.line) as unknown)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
  });

  it('cuts a torn tail on open (a last line without its newline) and appends after what is whole', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ingest.log'), '{"a":1}\n{"a":2}\n{"a":');
    const log = new DurableLog(dir, { clock: new ManualClock(0) });
    const torn = await log.open();
    cleanups.push(() => log.close());
    expect(torn).toMatchObject({ offset: 16, bytes: 5, reason: 'no newline' });
    expect(statSync(log.path).size).toBe(16);
    await log.append(['{"a":3}']);
    expect(linesOf(log.path)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it('cuts a last line that does not parse (blocks that never reached the disk read as zeros)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ingest.log'), Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.alloc(6), Buffer.from('\n')]));
    const log = new DurableLog(dir, { clock: new ManualClock(0) });
    expect(await log.open()).toMatchObject({ offset: 8, bytes: 7, reason: 'does not parse' });
    cleanups.push(() => log.close());
    expect(linesOf(log.path)).toEqual([{ a: 1 }]);
  });

  it('leaves a whole log alone', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ingest.log'), '{"a":1}\n[2]\n');
    const log = new DurableLog(dir, { clock: new ManualClock(0) });
    expect(await log.open()).toBeUndefined();
    cleanups.push(() => log.close());
    expect(log.length).toBe(12);
  });

  it('waits for appends in flight when closed, and refuses later ones', async () => {
    const log = new DurableLog(tempDir(), { clock: new ManualClock(0) });
    await log.open();
    const inFlight = log.append(['1']);
    await log.close();
    await expect(inFlight).resolves.toBe(2);
    await expect(log.append(['2'])).rejects.toMatchObject({ code: 'INGEST_LOG_FAILED' });
  });

  it('on a full disk: fails the whole group, leaves no partial line behind, and backs off before it tries the disk again', async (ctx) => {
    const fs = mountTmpfs(128 * 1024);
    if ('skip' in fs) return ctx.skip(fs.skip);
    cleanups.push(() => fs.unmount());
    const ballast = join(fs.dir, 'ballast');
    writeFileSync(ballast, Buffer.alloc(32 * 1024)); // freed later, to give the log room again
    const clock = new ManualClock(0);
    const log = await openLog(join(fs.dir, 'log'), clock);
    const record = (i: number): string => JSON.stringify({ i, pad: 'x'.repeat(1000) });

    // 200 records of 1 KB at once: the first is written alone, the other 199 as one group
    // that cannot fit (the write stops short, then ENOSPC).
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => log.append([record(i)])));
    const acked = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(acked).toEqual([0]);
    expect(failed).toHaveLength(199);
    for (const f of failed) expect(f.reason).toMatchObject({ code: 'STORAGE_FULL' });
    // Nothing of the failed group is in the file: it holds exactly what was acknowledged.
    expect(statSync(log.path).size).toBe(log.length);
    expect(linesOf(log.path)).toEqual([JSON.parse(record(0))]);

    // Fill it one by one: each acknowledged record is whole on disk, the first refused one is not there.
    clock.advance(log.backoffRemainingMs());
    let i = 1;
    for (;;) {
      try {
        await log.append([record(i)]);
        i++;
      } catch (error) {
        expect(error).toMatchObject({ code: 'STORAGE_FULL' });
        break;
      }
    }
    expect(linesOf(log.path)).toHaveLength(i);
    expect(statSync(log.path).size).toBe(log.length);

    // Backing off: the next try is refused without a write, even once there is room again.
    expect(log.backoffRemainingMs()).toBe(100);
    clock.advance(100);
    await expect(log.append([record(i)])).rejects.toMatchObject({ code: 'STORAGE_FULL' }); // tried the disk: still full
    expect(log.backoffRemainingMs()).toBe(200); // doubled
    unlinkSync(ballast);
    await expect(log.append([record(i)])).rejects.toThrow(/waits 200 ms before it tries again/);
    clock.advance(200);
    const end = await log.append([record(i)]);
    expect(end).toBe(log.length);
    expect(log.backoffRemainingMs()).toBe(0);
    expect(linesOf(log.path)).toEqual(Array.from({ length: i + 1 }, (_, k) => JSON.parse(record(k)) as unknown));
  });
});
