import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/launch/job.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';

// The control-plane attacks of issue 17, as a browser would send them: a page of another
// site posting a form (text/plain, urlencoded, multipart: no preflight) with its Origin,
// and a page re-pointed at 127.0.0.1 by DNS rebinding (its own host name in Host).

let run: StartedJob;
let url: string;
let port: number;

beforeAll(async () => {
  run = liveJob({ dir: join(mkdtempSync(join(tmpdir(), 'sluice-guard-')), 'cp'), server: { port: 0 } }).start();
  const server = (await run.server)!;
  url = server.url;
  port = server.port;
});
afterAll(async () => {
  run.cancel();
  await run.done;
});

/** A request with exactly the headers given (fetch would set its own Host). */
function raw(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: res.headers['content-type']?.includes('json') ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('cross-site requests to state-changing routes', () => {
  it.each([
    ['text/plain', 'text/plain;charset=UTF-8', '{"savepoint":false}'],
    ['a url-encoded form', 'application/x-www-form-urlencoded', 'savepoint=false'],
    ['a multipart form', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n'],
  ])('a cross-site form post as %s to /cancel is refused (403) and the job runs on', async (_what, type, body) => {
    const r = await fetch(`${url}/jobs/live/cancel`, { method: 'POST', headers: { 'content-type': type, origin: 'http://evil.example' }, body });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('CROSS_ORIGIN_REFUSED');
    expect(run.monitor.status).toBe('running');
  });

  it('a body that is not JSON is refused with 415, even without an Origin (a no-cors fetch, a form from a file:// page)', async () => {
    for (const [path, type] of [
      ['/jobs/live/cancel', 'text/plain;charset=UTF-8'],
      ['/jobs/live/savepoints', 'application/x-www-form-urlencoded'],
      ['/jobs/live/stop', 'multipart/form-data; boundary=x'],
      ['/jobs/live/cancel', undefined],
    ] as const) {
      const r = await raw('POST', path, { host: `127.0.0.1:${port}`, ...(type ? { 'content-type': type } : {}) }, type ? 'x' : '');
      expect(r.status, `${path} ${type}`).toBe(415);
      expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_CONTENT_TYPE' });
    }
    expect(run.monitor.status).toBe('running');
  });

  it('JSON from another origin is refused (403); from the server’s own origin, or without Origin (the CLI), it goes through', async () => {
    const evil = await fetch(`${url}/jobs/live/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    expect(evil.status).toBe(403);
    const sameHostOtherPort = await fetch(`${url}/jobs/live/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port + 1}` }, body: '{}' });
    expect(sameHostOtherPort.status).toBe(403);
    expect(run.monitor.status).toBe('running');
    // Past the guard, an unknown route says 404 (rather than cancelling the job under test).
    const own = await fetch(`${url}/jobs/live/nothing`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: '{}' });
    expect(own.status).toBe(404);
    const cli = await fetch(`${url}/jobs/live/nothing`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{}' });
    expect(cli.status).toBe(404);
  });

  it('reads are left alone: the dashboard, without a content type', async () => {
    expect((await fetch(`${url}/jobs/live`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });
});

describe('DNS rebinding: the Host header', () => {
  it.each(['/jobs/live', '/jobs', '/healthz', '/readyz', '/metrics', '/'])('GET %s with Host: attacker.example is answered 421', async (path) => {
    const r = await raw('GET', path, { host: 'attacker.example' });
    expect(r.status).toBe(421);
    expect(r.body.error).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    expect(r.body.error!.message).toContain("'attacker.example'");
    expect((await raw('GET', path, { host: `attacker.example:${port}` })).status).toBe(421);
  });

  it('a rebound cancel is refused before anything else', async () => {
    const r = await raw('POST', '/jobs/live/cancel', { host: `attacker.example:${port}`, 'content-type': 'application/json', origin: `http://attacker.example:${port}` }, '{}');
    expect(r.status).toBe(421);
    expect(run.monitor.status).toBe('running');
  });

  it('a loopback server answers to 127.0.0.1, localhost and [::1], with or without the port', async () => {
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`]) {
      expect((await raw('GET', '/healthz', { host })).status, host).toBe(200);
    }
  });
});
