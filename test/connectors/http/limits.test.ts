/**
 * The HTTP source's limits, against a real server on real sockets: slow or idle
 * connections are closed, connections are capped, the queue is bounded in bytes.
 * Timeouts are short here; the tests wait for what happens, never for a length of time.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpSource, type HttpSource, type HttpSourceOptions, type HttpSourceReader } from '../../../src/connectors/http/index.js';
import { testSourceContext, type TestSourceContext } from '../../../src/testing/index.js';
import { until } from './helpers.js';

interface Running {
  source: HttpSource<unknown>;
  reader: HttpSourceReader<unknown>;
  ctx: TestSourceContext;
  url: string;
  port: number;
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: Partial<HttpSourceOptions<unknown>> = {}): Promise<Running> {
  const source = httpSource({ port: 0, ...opts });
  const ctx = testSourceContext({ maxPollWaitMs: 5 });
  const reader = source.createReader(ctx);
  cleanups.push(() => reader.close());
  await reader.open!();
  const { url, port } = await source.address();
  return { source, reader, ctx, url, port };
}

/** A raw client connection: what the server sent, and whether the server closed it. */
interface Raw {
  socket: Socket;
  received: string;
  closed: boolean;
}

function rawConnect(port: number, send = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const raw: Raw = { socket, received: '', closed: false };
    cleanups.push(() => void socket.destroy());
    socket.on('data', (d: Buffer) => (raw.received += d.toString('latin1')));
    socket.on('close', () => (raw.closed = true));
    socket.on('error', () => {}); // a reset is a close here
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve(raw);
    });
    socket.once('error', reject);
  });
}

function post(url: string, body: string | Uint8Array, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
}

async function drain(reader: HttpSourceReader<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const { values } = await reader.poll();
    if (values.length === 0) return out;
    out.push(...values);
  }
}

describe('httpSource limits', () => {
  it('closes connections that never finish their headers after headersTimeout (408), and serves others meanwhile', async () => {
    const { url, port, reader } = await start({ headersTimeout: 300, requestTimeout: 2_000 });
    const loris = await Promise.all(Array.from({ length: 200 }, () => rawConnect(port, 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Ty')));
    expect((await post(url, '{"n":1}')).status).toBe(202);
    await until(() => loris.every((c) => c.closed));
    for (const c of loris) expect(c.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(await drain(reader)).toEqual([{ n: 1 }]);
  });

  it('closes a request whose body does not arrive within requestTimeout (408), and gives back the bytes it held', async () => {
    const { port, reader } = await start({ headersTimeout: 200, requestTimeout: 400 });
    const slow = await rawConnect(port, 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[1,2,');
    await until(() => slow.closed);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    await until(() => reader.queuedBytes === 0); // the handler sees the abort after the close
    expect(reader.queued).toBe(0);
  });

  it('closes a keep-alive connection left idle for keepAliveTimeout', async () => {
    const { port } = await start({ keepAliveTimeout: 200 });
    const c = await rawConnect(port, 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n1');
    await until(() => c.closed);
    expect(c.received).toMatch(/^HTTP\/1\.1 202 /);
  });

  it('closes connections beyond maxConnections as soon as they are accepted, and takes new ones once some close', async () => {
    const { url, port, source } = await start({ maxConnections: 5 });
    const held = await Promise.all(Array.from({ length: 5 }, () => rawConnect(port, 'POST /ingest HTTP/1.1\r\n')));
    await until(() => source.stats().connections === 5);
    const extra = await rawConnect(port, 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n1');
    await until(() => extra.closed);
    expect(extra.received).toBe(''); // closed unanswered
    await expect(post(url, '1')).rejects.toThrow();
    expect(source.stats()).toMatchObject({ connections: 5, acceptedRequests: 0 });
    expect(source.stats().droppedConnections).toBeGreaterThanOrEqual(2); // the raw one and fetch's (which may try again)
    held[0]!.socket.destroy();
    await until(() => source.stats().connections === 4);
    expect((await post(url, '1')).status).toBe(202);
  });

  it('bounds the queue in bytes: bodies that would go over get 429 before they are kept, counting bodies still arriving', async () => {
    const maxQueueBytes = 100_000;
    const { url, reader, source } = await start({ maxQueueBytes, retryAfterSeconds: 2 });
    const body = JSON.stringify([{ pad: 'x'.repeat(30_000) }]); // 30 013 bytes
    // Ten at once on an empty queue: each holds its Content-Length on arrival, so three fit.
    const first = await Promise.all(Array.from({ length: 10 }, () => post(url, body)));
    expect(first.map((r) => r.status).sort()).toEqual([202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    const refused = first.find((r) => r.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ error: 'queue full: nothing was accepted, retry later', maxQueueBytes });
    expect(reader.queuedBytes).toBe(3 * body.length);
    expect(reader.queued).toBe(3);

    // A streamed body (no Content-Length) is counted as it arrives.
    const chunk = new TextEncoder().encode(`[{"pad":"${'y'.repeat(20_000)}"}]`);
    const streamed = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: new ReadableStream({ start: (c) => (c.enqueue(chunk), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(429);
    expect(reader.queuedBytes).toBe(3 * body.length);
    // One larger than the whole bound can never fit: 413.
    expect((await post(url, JSON.stringify(['z'.repeat(maxQueueBytes)]))).status).toBe(413);

    expect(await drain(reader)).toHaveLength(3);
    expect(reader.queuedBytes).toBe(0);
    expect((await post(url, body)).status).toBe(202);
    expect(source.stats()).toMatchObject({ acceptedRequests: 4, throttledRequests: 8, queuedBytes: body.length });
  });

  it('rejects limits that make no sense when built', () => {
    expect(() => httpSource({ port: 0, maxQueueBytes: 0 })).toThrow(/maxQueueBytes/);
    expect(() => httpSource({ port: 0, maxConnections: 1.5 })).toThrow(/maxConnections/);
    expect(() => httpSource({ port: 0, headersTimeout: '0s' })).toThrow(/headersTimeout/);
    expect(() => httpSource({ port: 0, headersTimeout: '40s' })).toThrow(/must not be longer than requestTimeout/);
  });
});
