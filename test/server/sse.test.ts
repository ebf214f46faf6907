/**
 * The event stream (`GET /jobs/:id/events`, `src/server/sse.ts`) lets go of everything it
 * holds once its client is gone or the server closes: the keep-alive timer is cleared and
 * the sampler subscription dropped (no timer or listener left per past client), and while
 * the client stays, samples keep coming.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobMonitor } from '../../src/observe/job-monitor.js';
import type { MetricsSample } from '../../src/observe/sampler.js';
import { streamEvents } from '../../src/server/sse.js';

/** The parts of a monitor the stream reads, with the sampler's listeners in view. */
function monitorStub() {
  const listeners = new Set<(s: MetricsSample) => void>();
  const sample = (time: number) => ({ time, rates: {}, taskRatios: {}, snapshot: { steps: [] } }) as unknown as MetricsSample;
  const m = {
    status: 'running',
    exceptions: [],
    running: { checkpoints: [] },
    sampler: {
      latest: () => sample(0),
      subscribe(l: (s: MetricsSample) => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
  } as unknown as JobMonitor;
  return { m, listeners, publish: (time: number) => listeners.forEach((l) => l(sample(time))) };
}

const servers: Server[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) s.close();
});

async function serve(m: JobMonitor): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => streamEvents(m, req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** The keep-alive timers streams start (setInterval of 15 s), and which of them were cleared. */
function watchKeepAlives() {
  const started: unknown[] = [];
  const cleared = new Set<unknown>();
  const setInterval = globalThis.setInterval;
  const clearInterval = globalThis.clearInterval;
  vi.spyOn(globalThis, 'setInterval').mockImplementation(((f: () => void, ms?: number) => {
    const t = setInterval(f, ms);
    if (ms === 15_000) started.push(t);
    return t;
  }) as typeof globalThis.setInterval);
  vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t: NodeJS.Timeout) => {
    cleared.add(t);
    clearInterval(t);
  }) as typeof globalThis.clearInterval);
  return { started, cleared };
}

async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
}

/** Reads the stream until `n` events have come; returns their `time`s. */
async function events(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<number[]> {
  let text = '';
  const decoder = new TextDecoder();
  while ((text.match(/^event: sample$/gm) ?? []).length < n) text += decoder.decode((await reader.read()).value);
  return [...text.matchAll(/^data: (.*)$/gm)].map((d) => (JSON.parse(d[1]!) as { time: number }).time);
}

describe('server-sent events', () => {
  it('while the client listens, every sample arrives; when it disconnects, the keep-alive timer is cleared and the subscription dropped', async () => {
    const keepAlives = watchKeepAlives();
    const { m, listeners, publish } = monitorStub();
    const { url } = await serve(m);
    const client = new AbortController();
    const res = await fetch(url, { signal: client.signal });
    const reader = res.body!.getReader();
    expect(await events(reader, 1)).toEqual([0]);
    expect(listeners.size).toBe(1);
    expect(keepAlives.started).toHaveLength(1);
    publish(1);
    publish(2);
    expect(await events(reader, 2)).toEqual([1, 2]);

    client.abort();
    await until(() => listeners.size === 0 && keepAlives.cleared.has(keepAlives.started[0]));
    expect(listeners.size).toBe(0);
    expect(keepAlives.cleared.has(keepAlives.started[0])).toBe(true);
  });

  it('when the server closes under a connected client, the same', async () => {
    const keepAlives = watchKeepAlives();
    const { m, listeners } = monitorStub();
    const { server, url } = await serve(m);
    const res = await fetch(url);
    const reader = res.body!.getReader();
    await events(reader, 1);
    expect(listeners.size).toBe(1);

    server.close();
    server.closeAllConnections();
    await until(() => listeners.size === 0 && keepAlives.cleared.has(keepAlives.started[0]));
    expect(listeners.size).toBe(0);
    expect(keepAlives.cleared.has(keepAlives.started[0])).toBe(true);
    await reader.read().catch(() => undefined); // the stream ends (or errors) for the client
  });

  it('a request whose body is read (it ends at once) still streams: the stream ends with the response, not with the request', async () => {
    const keepAlives = watchKeepAlives();
    const { m, listeners, publish } = monitorStub();
    const server = createServer((req, res) => {
      req.resume(); // its 'end', then 'close', come at once: the request is complete
      streamEvents(m, req, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new AbortController();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: client.signal });
    const reader = res.body!.getReader();
    await events(reader, 1);
    await new Promise((r) => setTimeout(r, 50));
    publish(7);
    expect(await events(reader, 1)).toEqual([7]);
    expect(keepAlives.cleared.has(keepAlives.started[0])).toBe(false);
    client.abort();
    await until(() => listeners.size === 0);
    expect(listeners.size).toBe(0);
  }, 10_000);
});
