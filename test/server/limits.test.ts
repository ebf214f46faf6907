/**
 * The REST server holds against slow and idle clients: connections that never finish
 * their headers are closed at the header timeout while a normal request still gets its
 * answer, and connections beyond the cap are closed as they come. (Before: half-open
 * connections were dropped only after 90-100 s, with no cap: 21,000 of them reset ingest
 * and REST and made checkpoints fail with EMFILE.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/launch/job.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';
import { until } from '../cli/processes.js';

const started: StartedJob[] = [];
const dirs: string[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const run of started.splice(0)) {
    run.cancel();
    await run.done.catch(() => {});
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(server: { headersTimeoutMs?: number; maxConnections?: number }): Promise<{ port: number; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-server-limits-'));
  dirs.push(dir);
  const run = liveJob({ dir, server: { port: 0, ...server } }).start();
  started.push(run);
  const s = (await run.server)!;
  return { port: s.port, url: s.url };
}

/** Opens a connection that sends half a request's headers and then nothing; resolves once connected. */
function halfOpen(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve({ socket, closed: () => closed });
    });
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.on('data', () => {});
    sockets.push(socket);
  });
}

describe('REST server limits', () => {
  it('closes connections that never finish their headers, and answers a normal request meanwhile', async () => {
    const { port, url } = await serve({ headersTimeoutMs: 400 });
    const slow = await Promise.all(Array.from({ length: 50 }, () => halfOpen(port)));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await until(() => (slow.every((c) => c.closed()) ? true : undefined), 30_000, () => `${slow.filter((c) => !c.closed()).length} still open`);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 60_000);

  it('closes connections beyond the cap as they come, and serves again once there is room', async () => {
    const { port, url } = await serve({ headersTimeoutMs: 60_000, maxConnections: 5 });
    const held = await Promise.all(Array.from({ length: 5 }, () => halfOpen(port)));
    const extra = await halfOpen(port);
    await until(() => (extra.closed() ? true : undefined), 30_000, () => 'the connection beyond the cap stayed open');
    expect(held.every((c) => !c.closed())).toBe(true);
    for (const c of held) c.socket.destroy();
    await until(async () => ((await fetch(`${url}/healthz`).then((r) => r.status, () => 0)) === 200 ? true : undefined), 30_000, () => 'no answer after the held connections closed');
  }, 60_000);
});
