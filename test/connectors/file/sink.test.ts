import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSinkContext } from '../../../src/testing/index.js';
import { fileSink, jsonlFileSink } from '../../../src/connectors/file/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-file-sink-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('jsonlFileSink', () => {
  it('appends one JSON line per record', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, '{"before":true}\n');
    const writer = jsonlFileSink<{ n: number }>(path).createWriter(testSinkContext());
    await writer.open!();
    await writer.write([{ n: 1 }, { n: 2 }], [Number.NaN, Number.NaN]);
    await writer.write([{ n: 3 }], [5]);
    await writer.flush!();
    expect(await readFile(path, 'utf8')).toBe('{"before":true}\n{"n":1}\n{"n":2}\n{"n":3}\n');
    await writer.close();
  });

  it('asks the pipeline to wait when the stream is over its buffer limit', async () => {
    const path = join(dir, 'slow.jsonl');
    const writer = fileSink<string>(path, { highWaterMark: 16 }).createWriter(testSinkContext());
    await writer.open!();
    const result = writer.write(['a fairly long record that fills the buffer'], [0]);
    expect(result).toBeInstanceOf(Promise);
    await result;
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    for (const l of lines) await writer.write([l], [0]);
    await writer.close();
    const text = await readFile(path, 'utf8');
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(['a fairly long record that fills the buffer', ...lines]);
  });

  it('refuses a record JSON cannot represent as BAD_RECORD', async () => {
    const writer = jsonlFileSink(join(dir, 'bad.jsonl')).createWriter(testSinkContext({ uid: 'out' }));
    await writer.open!();
    expect(() => writer.write([{ id: 1n }], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD', step: 'out' }));
    expect(() => writer.write([undefined], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
    await writer.close();
  });

  it('fails with SINK_FAILED when the file cannot be opened', async () => {
    const writer = jsonlFileSink(join(dir, 'no', 'such', 'dir.jsonl')).createWriter(testSinkContext());
    await expect(writer.open!()).rejects.toMatchObject({ code: 'SINK_FAILED' });
    await writer.close();
  });

  it('describes itself', () => {
    const s = jsonlFileSink('/tmp/o.jsonl');
    expect([s.kind, s.describe()]).toEqual(['file', 'file /tmp/o.jsonl (jsonl, append, at-least-once)']);
  });
});
