import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/time/clock.js';
import { readAll, settle, testSourceContext } from '../../../src/testing/index.js';
import { fileSource } from '../../../src/connectors/file/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-file-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('fileSource, jsonl', () => {
  it('reads every line in batches, skips empty lines, ends at EOF', async () => {
    const content = '{"n":1}\n\n{"n":2}\r\n   \n{"n":3}\n{"n":4}\n';
    const path = await file('a.jsonl', content);
    const ctx = testSourceContext({ maxBatchSize: 2 });
    const reader = fileSource<{ n: number }>(path, { format: 'jsonl' }).createReader(ctx);
    await reader.open!();
    expect(await reader.poll()).toEqual({ values: [{ n: 1 }, { n: 2 }] });
    expect(reader.position()).toEqual({ offset: content.indexOf('   ') });
    expect(await reader.poll()).toEqual({ values: [{ n: 3 }, { n: 4 }] });
    const last = await reader.poll();
    expect(last).toEqual({ values: [], done: true });
    expect(reader.position()).toEqual({ offset: Buffer.byteLength(content) });
    await reader.close();
  });

  it('counts an unterminated last line when reading to the end', async () => {
    const path = await file('b.jsonl', '1\n2\n3');
    expect((await readAll(fileSource(path, { format: 'jsonl' }))).values).toEqual([1, 2, 3]);
  });

  it('reads in small chunks without losing or splitting lines', async () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ i, text: `ünïcødé ${'x'.repeat(i % 17)}` }));
    const path = await file('c.jsonl', records.map((r) => JSON.stringify(r)).join('\n'));
    const { values } = await readAll(fileSource(path, { format: 'jsonl', chunkSize: 7 }), testSourceContext({ maxBatchSize: 33 }));
    expect(values).toEqual(records);
  });

  it('sends a line that does not parse to badRecord with path:line, and carries on', async () => {
    const path = await file('d.jsonl', '{"ok":1}\n\n{not json\n{"ok":2}\n');
    const ctx = testSourceContext();
    const { values } = await readAll(fileSource(path, { format: 'jsonl' }), ctx);
    expect(values).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(ctx.badRecords).toHaveLength(1);
    expect(ctx.badRecords[0]).toMatchObject({ raw: '{not json', position: `${path}:3` });
    expect(ctx.badRecords[0]!.error).toBeInstanceOf(SyntaxError);
  });

  it('lets badRecord fail the job under the fail policy', async () => {
    const path = await file('e.jsonl', '{"ok":1}\nnope\n');
    await expect(readAll(fileSource(path, { format: 'jsonl' }), testSourceContext({ badRecords: 'fail' }))).rejects.toMatchObject({
      code: 'BAD_RECORD',
      message: expect.stringContaining(`${path}:2`),
    });
  });

  it('fails with SOURCE_FAILED naming a missing file', async () => {
    const path = join(dir, 'missing.jsonl');
    await expect(readAll(fileSource(path, { format: 'jsonl' }))).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: expect.stringContaining(`cannot read ${path}: there is no such file`),
    });
  });

  it('rejects bad options when built', () => {
    expect(() => fileSource('x', { format: 'xml' as never })).toThrow(/format/);
    expect(() => fileSource('', { format: 'jsonl' })).toThrow(/path/);
    expect(() => fileSource('x', { format: 'jsonl', pollInterval: 'soon' as never })).toThrow(/pollInterval/);
    expect(() => fileSource('x', { format: 'csv', csv: { delimiter: '' } })).toThrow(/delimiter/);
  });

  it('describes itself', () => {
    const s = fileSource('/data/x.jsonl', { format: 'jsonl' });
    expect([s.kind, s.bounded, s.describe()]).toEqual(['file', true, 'file /data/x.jsonl (jsonl)']);
    const f = fileSource('/data/x.jsonl', { format: 'jsonl', follow: true, pollInterval: '1s' });
    expect([f.bounded, f.describe()]).toEqual([false, 'file /data/x.jsonl (jsonl, following every 1000 ms)']);
  });
});

describe('fileSource, csv', () => {
  it('keys records by the header, keeping strings unless cast', async () => {
    const path = await file('a.csv', 'sku,price,name\na1,9.5,"Tea, green"\n\nb2,12,"say ""hi"""\n');
    expect((await readAll(fileSource(path, { format: 'csv' }))).values).toEqual([
      { sku: 'a1', price: '9.5', name: 'Tea, green' },
      { sku: 'b2', price: '12', name: 'say "hi"' },
    ]);
    expect((await readAll(fileSource(path, { format: 'csv', csv: { cast: true } }))).values).toEqual([
      { sku: 'a1', price: 9.5, name: 'Tea, green' },
      { sku: 'b2', price: 12, name: 'say "hi"' },
    ]);
  });

  it('takes columns and a delimiter, with or without a header line', async () => {
    const withHeader = await file('b.csv', 'A;B\n1;2\n');
    const noHeader = await file('c.csv', '1;2\n3;4\n');
    const csv = { columns: ['x', 'y'], delimiter: ';', cast: true };
    expect((await readAll(fileSource(withHeader, { format: 'csv', csv }))).values).toEqual([{ x: 1, y: 2 }]);
    expect((await readAll(fileSource(noHeader, { format: 'csv', csv: { ...csv, header: false } }))).values).toEqual([
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ]);
    expect((await readAll(fileSource(noHeader, { format: 'csv', csv: { header: false, delimiter: ';' } }))).values).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('reports a row with the wrong number of fields, or broken quotes, as a bad record', async () => {
    const path = await file('d.csv', 'a,b\n1,2\n1,2,3\n"open,4\n5,6\n');
    const ctx = testSourceContext();
    const { values } = await readAll(fileSource(path, { format: 'csv' }), ctx);
    expect(values).toEqual([{ a: '1', b: '2' }, { a: '5', b: '6' }]);
    expect(ctx.badRecords.map((b) => [b.raw, b.position])).toEqual([
      ['1,2,3', `${path}:3`],
      ['"open,4', `${path}:4`],
    ]);
    expect(String(ctx.badRecords[0]!.error)).toContain('expected 2 fields (a, b), found 3');
  });
});

describe('fileSource, follow', () => {
  const opts = { format: 'jsonl', follow: true, pollInterval: 100 } as const;

  it('tails the file: hands out growth, and waits for the newline of a partial last line', async () => {
    const path = await file('tail.jsonl', '{"n":1}\n');
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxPollWaitMs: 50 });
    const reader = fileSource(path, opts).createReader(ctx);
    await reader.open!();
    expect(await settle(clock, reader.poll())).toEqual({ values: [{ n: 1 }] });
    expect(await settle(clock, reader.poll(), { stepMs: 10 })).toEqual({ values: [] }); // nothing new

    await appendFile(path, '{"n":2}\n{"n":');
    clock.advance(100); // time for another look
    expect(await settle(clock, reader.poll(), { stepMs: 10 })).toEqual({ values: [{ n: 2 }] });
    expect(reader.position()).toEqual({ offset: 16 }); // the partial line is not consumed

    await appendFile(path, '3}\n');
    let batch = await settle(clock, reader.poll(), { stepMs: 10 });
    if (batch.values.length === 0) batch = await settle(clock, reader.poll(), { stepMs: 10 });
    expect(batch).toEqual({ values: [{ n: 3 }] });
    expect(reader.position()).toEqual({ offset: 24 });
    await reader.close();
  });

  it('looks for growth once per pollInterval and waits at most maxPollWaitMs per poll', async () => {
    const path = await file('quiet.jsonl', '');
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxPollWaitMs: 30 });
    const reader = fileSource(path, opts).createReader(ctx);
    const polls: number[] = [];
    for (let i = 0; i < 5; i++) {
      await settle(clock, reader.poll());
      polls.push(clock.now());
    }
    expect(polls).toEqual([30, 60, 90, 100, 130]); // each poll waits ≤ 30 ms; looks happen at 0, 100, 200
    await reader.close();
  });

  it('starts over when the file is truncated, and says so', async () => {
    const path = await file('trunc.jsonl', '{"old":1}\n{"old":2}\n');
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxPollWaitMs: 50 });
    const reader = fileSource(path, opts).createReader(ctx);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      expect((await settle(clock, reader.poll())).values).toEqual([{ old: 1 }, { old: 2 }]);
      await truncate(path, 0);
      await appendFile(path, '{"new":1}\n');
      clock.advance(100);
      expect((await settle(clock, reader.poll(), { stepMs: 10 })).values).toEqual([{ new: 1 }]);
      expect(reader.truncations).toBe(1);
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => (w as NodeJS.ErrnoException).code)).toContain('SLUICE_FILE_TRUNCATED');
      expect(reader.position()).toEqual({ offset: 10 });
    } finally {
      process.off('warning', onWarning);
      await reader.close();
    }
  });

  it('stops waiting when the job is cancelled', async () => {
    const path = await file('cancel.jsonl', '');
    const clock = new ManualClock(0);
    const ctx = testSourceContext({ clock, maxPollWaitMs: 1000 });
    const reader = fileSource(path, opts).createReader(ctx);
    const p = reader.poll();
    await new Promise((r) => setTimeout(r, 20));
    ctx.abort();
    expect(await p).toEqual({ values: [] });
    expect(clock.scheduledCount).toBe(0);
    await reader.close();
  });
});
