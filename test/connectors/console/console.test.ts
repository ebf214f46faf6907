import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testSinkContext } from '../../../src/testing/index.js';
import { consoleSink, defaultFormat } from '../../../src/connectors/console/index.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('consoleSink', () => {
  it('prints one line per record, strings as they are and other values as JSON', async () => {
    const out = capture();
    const writer = consoleSink<unknown>({ stream: out.stream }).createWriter(testSinkContext());
    await writer.write(['plain', { a: 1 }, 42, null], [0, 0, 0, 0]);
    await writer.close();
    expect(out.text()).toBe('plain\n{"a":1}\n42\nnull\n');
  });

  it('puts a label before each line, like Flink', async () => {
    const out = capture();
    const writer = consoleSink<number>({ stream: out.stream, prefix: 'sums' }).createWriter(testSinkContext());
    await writer.write([1, 2], [Number.NaN, Number.NaN]);
    expect(out.text()).toBe('sums> 1\nsums> 2\n');
  });

  it('formats with the record and its timestamp', async () => {
    const out = capture();
    const sink = consoleSink<{ id: string }>({ stream: out.stream, format: (v, ts) => `${ts} ${v.id}` });
    await sink.createWriter(testSinkContext()).write([{ id: 'x' }], [1000]);
    expect(out.text()).toBe('1000 x\n');
  });

  it('waits for a slow stream to drain', async () => {
    let release: () => void = () => {};
    const lines: string[] = [];
    const slow = new Writable({
      highWaterMark: 4,
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        release = cb;
      },
    });
    const writer = consoleSink<string>({ stream: slow }).createWriter(testSinkContext());
    const pending = writer.write(['a long line'], [0]);
    expect(pending).toBeInstanceOf(Promise);
    let done = false;
    void (pending as Promise<void>).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await pending;
    expect(lines).toEqual(['a long line\n']);
  });

  it('shows values JSON cannot', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(defaultFormat({ n: 5n })).toBe('{"n":"5n"}');
    expect(defaultFormat(undefined)).toBe('undefined');
    expect(defaultFormat(cyclic)).toContain('[Circular');
  });

  it('describes itself', () => {
    expect(consoleSink({ prefix: 'p' }).describe()).toBe("console (stdout, prefix 'p')");
    expect(consoleSink().kind).toBe('console');
  });
});
