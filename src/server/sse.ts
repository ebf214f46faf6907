import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobMonitor } from '../observe/job-monitor.js';
import type { MetricsSample } from '../observe/sampler.js';

/** The live event a dashboard receives every second: status, rates, the snapshot, recent checkpoints and exceptions. */
export function liveEvent(m: JobMonitor, s: MetricsSample): Record<string, unknown> {
  return {
    status: m.status,
    time: s.time,
    rates: s.rates,
    taskRatios: s.taskRatios,
    snapshot: s.snapshot,
    checkpoints: m.running.checkpoints.slice(-20).reverse(),
    exceptions: m.exceptions.slice(-20).reverse(),
  };
}

/**
 * `GET /jobs/:id/events`: server-sent events, a `sample` per second until the client
 * leaves or the server closes (when the job ends). Then the stream's keep-alive timer is
 * cleared and its sampler subscription dropped: on the response's 'close', which comes
 * when the connection goes, whoever ends it. (The request's 'close' comes when the request
 * is complete, which since Node 16 may be at once: the stream then stopped after its first
 * sample. Pinned by `test/server/sse.test.ts`.)
 */
export function streamEvents(m: JobMonitor, _req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  const send = (s: MetricsSample) => res.write(`event: sample\ndata: ${JSON.stringify(liveEvent(m, s), (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v))}\n\n`);
  send(m.sampler.latest());
  const unsubscribe = m.sampler.subscribe(send);
  // Comments keep proxies from closing a quiet stream; a finished job's last sample is sent by `ended()`.
  // Unref'd: a stream never keeps the process alive by itself.
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15000);
  keepAlive.unref();
  res.once('close', () => {
    unsubscribe();
    clearInterval(keepAlive);
  });
}
