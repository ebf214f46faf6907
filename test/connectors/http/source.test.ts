import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/time/clock.js';
import { testSourceContext, type TestSourceContext } from '../../../src/testing/index.js';
import { httpSource, type HttpSource, type HttpSourceOptions, type HttpSourceReader } from '../../../src/connectors/http/index.js';

interface Running<T> {
  source: HttpSource<T>;
  reader: HttpSourceReader<T>;
  ctx: TestSourceContext;
  url: string;
}

const open: Array<Running<unknown>> = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.reader.close();
});

async function start<T = unknown>(opts: Partial<HttpSourceOptions<T>> = {}, ctxOpts: Parameters<typeof testSourceContext>[0] = {}): Promise<Running<T>> {
  const source = httpSource<T>({ port: 0, ...opts });
  const ctx = testSourceContext({ maxPollWaitMs: 20, ...ctxOpts });
  const reader = source.createReader(ctx);
  await reader.open!();
  const { url } = await source.address();
  const running = { source, reader, ctx, url };
  open.push(running as Running<unknown>);
  return running;
}

/** The JSON answer of the endpoint. */
interface Answer {
  accepted?: number;
  error?: string;
  line?: number;
  queued?: number;
  capacity?: number;
  problems?: Array<{ line?: number; index?: number; message: string }>;
  problemCount?: number;
}

async function answer(res: Response): Promise<Answer> {
  return (await res.json()) as Answer;
}

function post(url: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
}

describe('httpSource', () => {
  it('listens on an ephemeral port and says where', async () => {
    const { source, url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ingest$/);
    expect(source.url).toBe(url);
    expect((await source.address()).port).toBeGreaterThan(0);
    expect(source.kind).toBe('http');
    expect(source.bounded).toBe(false);
    expect(source.describe()).toBe('http POST 127.0.0.1:(any port)/ingest (queue 10000 records / 64 MiB, json/ndjson)');
  });

  it('takes a JSON object, a JSON array and NDJSON, and hands records out in order', async () => {
    const { url, reader } = await start<{ n: number }>();
    const a = await post(url, '{"n":1}');
    expect(a.status).toBe(202);
    expect(await answer(a)).toEqual({ accepted: 1 });
    expect(await answer(await post(url, '[{"n":2},{"n":3}]'))).toEqual({ accepted: 2 });
    const c = await post(url, '{"n":4}\n\n{"n":5}\r\n{"n":6}', 'application/x-ndjson');
    expect(await answer(c)).toEqual({ accepted: 3 });
    expect(reader.queued).toBe(6);
    expect(await reader.poll()).toEqual({ values: [1, 2, 3, 4, 5, 6].map((n) => ({ n })) });
  });

  it('returns at most maxBatchSize per poll', async () => {
    const { url, reader } = await start({}, { maxBatchSize: 2 });
    await post(url, '[1,2,3]');
    expect((await reader.poll()).values).toEqual([1, 2]);
    expect((await reader.poll()).values).toEqual([3]);
  });

  it('answers 429 with Retry-After when the records do not all fit, and takes none of them', async () => {
    const { url, reader, source } = await start({ queueCapacity: 5, retryAfterSeconds: 3 });
    expect((await post(url, '[1,2,3]')).status).toBe(202);
    const full = await post(url, '[4,5,6]');
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('3');
    expect(await answer(full)).toMatchObject({ queued: 3, capacity: 5 });
    expect(reader.queued).toBe(3); // nothing of the refused request
    expect((await post(url, '[4,5]')).status).toBe(202); // exactly fills the queue
    expect((await reader.poll()).values).toEqual([1, 2, 3, 4, 5]);
    expect((await post(url, '[6,7,8]')).status).toBe(202); // room again after the poll
    expect(source.stats()).toMatchObject({ acceptedRecords: 8, acceptedRequests: 3, throttledRequests: 1, queued: 3 });
  });

  it('answers 413 to a request with more records than the queue can ever hold', async () => {
    const { url } = await start({ queueCapacity: 2 });
    const res = await post(url, '[1,2,3]');
    expect(res.status).toBe(413);
    expect((await answer(res)).error).toContain('exceed the queue capacity of 2');
  });

  it('answers 400 naming the line of malformed NDJSON, and takes nothing', async () => {
    const { url, reader } = await start();
    const res = await post(url, '{"ok":1}\n{broken\n{"ok":2}\nnope', 'application/x-ndjson');
    expect(res.status).toBe(400);
    const body = await answer(res);
    expect(body.problems?.map((p) => p.line)).toEqual([2, 4]);
    expect(body.problemCount).toBe(2);
    expect(reader.queued).toBe(0);
  });

  it('answers 400 naming the line of a malformed JSON body', async () => {
    const { url } = await start();
    const res = await post(url, '[\n{"a":1},\n{"a":}\n]');
    expect(res.status).toBe(400);
    expect(await answer(res)).toMatchObject({ error: 'malformed JSON body', line: 3 });
  });

  it('answers 400 listing the records parse() refused, and takes none of the request', async () => {
    const parse = (v: unknown): { id: string } => {
      if (typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string') throw new Error('id must be a string');
      return { id: (v as { id: string }).id };
    };
    const { url, reader, source } = await start({ parse });
    const res = await post(url, '[{"id":"a"},{"id":2},{"id":"c"},{}]');
    expect(res.status).toBe(400);
    expect(await answer(res)).toEqual({
      error: 'records failed validation: nothing was accepted',
      problems: [
        { index: 1, message: 'id must be a string' },
        { index: 3, message: 'id must be a string' },
      ],
      problemCount: 2,
    });
    const nd = await post(url, '{"id":"a"}\n{"id":1}', 'application/x-ndjson');
    expect((await answer(nd)).problems).toEqual([{ line: 2, message: 'id must be a string' }]);
    expect(reader.queued).toBe(0);
    expect(await answer(await post(url, '{"id":"ok","extra":1}'))).toEqual({ accepted: 1 });
    expect((await reader.poll()).values).toEqual([{ id: 'ok' }]);
    expect(source.stats().rejectedRequests).toBe(2);
  });

  it('answers 413 to a body over the limit', async () => {
    const { url, reader } = await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify(Array.from({ length: 500 }, (_, i) => i));
    const res = await post(url, big);
    expect(res.status).toBe(413);
    expect(reader.queued).toBe(0);
    // A streamed body without Content-Length is cut off as it arrives.
    const chunks = [Buffer.from('['), Buffer.from('1,'.repeat(1000)), Buffer.from('1]')];
    const stream = new ReadableStream({ start(c) { for (const ch of chunks) c.enqueue(ch); c.close(); } });
    const streamed = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await post(url, '[1]')).status).toBe(202); // the endpoint still works
  });

  it('answers 405 to another method, 404 to another path, 415 to another content type', async () => {
    const { url } = await start();
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(url.replace('/ingest', '/other'), '{}')).status).toBe(404);
    expect((await post(`${url}?x=1`, '{}')).status).toBe(202); // a query string is fine
    expect((await post(url, 'a,b', 'text/csv')).status).toBe(415);
  });

  it('answers 400 to a body that is not UTF-8, naming where; utf8: "replace" reads it as U+FFFD; a BOM is skipped', async () => {
    const { url, reader } = await start();
    const postBytes = (to: string, body: Uint8Array, type = 'application/json'): Promise<Response> =>
      fetch(to, { method: 'POST', headers: { 'Content-Type': type }, body });
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const res = await postBytes(url, bad);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not valid UTF-8: nothing was accepted', offset: 6, line: 1, bytes: 'ff227d' });
    const ndjson = Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xc0, 0x80]), Buffer.from('"}')]); // an overlong NUL
    expect(await (await postBytes(url, ndjson, 'application/x-ndjson')).json()).toMatchObject({ offset: 14, line: 2 });
    const surrogate = Buffer.concat([Buffer.from('"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"')]); // U+D800 encoded
    expect((await postBytes(url, surrogate)).status).toBe(400);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"é"}')]);
    expect((await postBytes(url, bom)).status).toBe(202);
    expect((await reader.poll()).values).toEqual([{ a: 'é' }]);

    const lenient = await start({ utf8: 'replace' });
    expect((await postBytes(lenient.url, bad)).status).toBe(202);
    expect((await lenient.reader.poll()).values).toEqual([{ a: '\uFFFD' }]);
  });

  it('resolves a waiting poll as soon as records arrive', async () => {
    const clock = new ManualClock(0); // time never moves: only the arrival can end the wait
    const { url, reader } = await start({}, { clock, maxPollWaitMs: 60_000 });
    const p = reader.poll();
    await post(url, '"hello"');
    expect(await p).toEqual({ values: ['hello'] });
    expect(clock.scheduledCount).toBe(0);
  });

  it('resolves an idle poll with nothing after maxPollWaitMs, and at once when cancelled', async () => {
    const clock = new ManualClock(0);
    const { reader, ctx } = await start({}, { clock, maxPollWaitMs: 100 });
    const idle = reader.poll();
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
    expect(await idle).toEqual({ values: [] });
    const cancelled = reader.poll();
    ctx.abort();
    expect(await cancelled).toEqual({ values: [] });
  });

  it('after stop(): refuses with 503, hands out what was accepted, then ends', async () => {
    const { url, reader, source } = await start({}, { maxBatchSize: 2 });
    await post(url, '[1,2,3]');
    source.stop();
    const refused = await post(url, '[4]');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await reader.poll()).toEqual({ values: [1, 2] });
    expect(await reader.poll()).toEqual({ values: [3], done: true });
    expect(source.stats().unavailableRequests).toBe(1);
  });

  it('answers 503 once the job is cancelled, and still hands out what it accepted', async () => {
    const { url, ctx, reader, source } = await start();
    expect((await post(url, '[1,2]')).status).toBe(202);
    ctx.abort();
    const refused = await post(url, '[3]');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await reader.poll()).values).toEqual([1, 2]);
    expect(source.stats().unavailableRequests).toBe(1);
  });

  it('refuses a second reader while one listens, and fails clearly on a port in use', async () => {
    const { source, url } = await start();
    expect(() => source.createReader(testSourceContext())).toThrow(/parallelism 1/);
    const port = Number(new URL(url).port);
    const clash = httpSource({ port });
    const reader = clash.createReader(testSourceContext());
    await expect(reader.open!()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    await expect(clash.address()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    await reader.close();
  });

  it('closes its server, with clients still connected', async () => {
    const { url, reader } = await start();
    await post(url, '1'); // leaves a keep-alive connection open
    await reader.close();
    await expect(post(url, '1')).rejects.toThrow();
  });

  it('rejects bad options when built', () => {
    expect(() => httpSource({ port: -1 })).toThrow(/port/);
    expect(() => httpSource({ port: 0, path: 'ingest' })).toThrow(/path/);
    expect(() => httpSource({ port: 0, queueCapacity: 0 })).toThrow(/queueCapacity/);
    expect(() => httpSource({ port: 0, utf8: 'latin1' as 'replace' })).toThrow(/utf8/);
  });
});
