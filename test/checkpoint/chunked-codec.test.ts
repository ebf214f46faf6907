import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { decodeChunked, encodeChunked } from '../../src/checkpoint/chunked-codec.js';
import { CHECKPOINT_FORMAT, FileCheckpointStorage } from '../../src/checkpoint/file-storage.js';

const concat = (parts: Uint8Array[]): Buffer => Buffer.concat(parts);
/** A typed array that owns exactly its bytes (a view into more would be copied whole to a worker thread). */
const owns = (a: ArrayBufferView): boolean => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;

describe('chunked checkpoint codec', () => {
  const big = 40_000; // every typed array below but `small` is over the 64 KiB of a block
  const value = () => ({
    keys: Float64Array.from({ length: big }, (_, i) => i * 1.5),
    groups: Uint16Array.from({ length: big }, (_, i) => i % 128),
    // A view into a larger buffer: only its own bytes are written.
    view: new Int32Array(new ArrayBuffer(4 * (big + 10)), 8, big).fill(-7),
    small: new Float64Array([1, 2, 3]),
    buffer: Buffer.alloc(70_000, 1),
    strings: Array.from({ length: 25_000 }, (_, i) => `k${i}`),
    nested: [{ n: 1n, m: new Map([['a', 1]]) }],
  });

  it('round-trips large typed arrays (as raw blocks), large arrays (in pieces) and the rest', async () => {
    const v = value();
    const parts = await encodeChunked(v);
    // The blocks are the typed arrays' own memory: nothing copied at encode.
    expect(parts.some((p) => p.buffer === v.keys.buffer)).toBe(true);
    const back = (await decodeChunked(concat(parts))) as ReturnType<typeof value>;
    expect(back).toEqual(v);
    expect(back.keys).toBeInstanceOf(Float64Array);
    expect(back.view).toBeInstanceOf(Int32Array);
    for (const a of [back.keys, back.groups, back.view, back.small]) expect(owns(a)).toBe(true);
  });

  it('reads format 1 files: a bare value first, then pieces (the 0.1.0 savepoint fixture is one too)', async () => {
    const strings = Array.from({ length: 30_000 }, (_, i) => `s${i}`);
    const skeleton = { a: 1, strings: { __sluiceChunks: [0, 2] } };
    const parts = [serialize(skeleton), serialize(strings.slice(0, 20_000)), serialize(strings.slice(20_000))];
    const header = Buffer.alloc(4 + parts.length * 4);
    header.writeUInt32LE(parts.length, 0);
    parts.forEach((p, i) => header.writeUInt32LE(p.length, 4 + i * 4));
    expect(await decodeChunked(Buffer.concat([header, ...parts]))).toEqual({ a: 1, strings });
  });

  it('file storage writes the parts in order, counts their bytes, and reads them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-codec-'));
    try {
      const storage = new FileCheckpointStorage(dir);
      const v = value();
      const handle = await storage.write({ jobName: 'j', checkpointId: 1, triggeredAt: 5, steps: { s: { kind: 'process', version: 1, state: v } } });
      expect(readFileSync(join(handle.path, 'state.bin')).length).toBe(handle.sizeBytes);
      expect(JSON.parse(readFileSync(join(handle.path, '_manifest.json'), 'utf8')).format).toBe(CHECKPOINT_FORMAT);
      const data = await storage.read(handle);
      expect(data.steps['s']!.state).toEqual(v);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
