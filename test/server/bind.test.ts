import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedHosts } from '../../src/server/request-guard.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';
import { serverUrl, startSluice, stop } from '../cli/processes.js';

const dir = () => join(mkdtempSync(join(tmpdir(), 'sluice-bind-')), 'cp');

/** GET `path` on 127.0.0.1:`port` with the Host given. */
function statusFor(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('binding beyond loopback', () => {
  it('is refused without insecure, naming --insecure; nothing runs', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.7']) {
      expect(() => liveJob({ dir: dir(), server: { host, port: 0 } }).start()).toThrow(expect.objectContaining({ code: 'INSECURE_BIND', hint: expect.stringContaining('--insecure') }));
    }
  });

  it('with insecure: a WARN line says the API is open to the network; Host is still checked', async () => {
    const lines: string[] = [];
    const run = liveJob({
      dir: dir(),
      server: { host: '0.0.0.0', port: 0, insecure: true, allowedHosts: ['sluice.internal'] },
      log: { level: 'info', destination: { write: (l) => lines.push(l) } },
    }).start();
    try {
      const server = (await run.server)!;
      const warn = lines.map((l) => JSON.parse(l) as { level: number; event: string; msg: string }).find((l) => l.event === 'server_insecure');
      expect(warn).toMatchObject({ level: 40 });
      expect(warn!.msg).toMatch(/open to the network without authentication/);
      // A wildcard bind answers to loopback names, its addresses and the names given.
      expect(await statusFor(server.port, '/healthz', `127.0.0.1:${server.port}`)).toBe(200);
      expect(await statusFor(server.port, '/healthz', `sluice.internal:${server.port}`)).toBe(200);
      expect(await statusFor(server.port, '/healthz', `10.1.2.3:${server.port}`)).toBe(200);
      expect(await statusFor(server.port, '/healthz', `attacker.example:${server.port}`)).toBe(421);
    } finally {
      run.cancel();
      await run.done;
    }
  });

  it('a loopback server says once, at info, that it is unauthenticated and local only', async () => {
    const lines: string[] = [];
    const run = liveJob({ dir: dir(), server: { port: 0 }, log: { level: 'info', destination: { write: (l) => lines.push(l) } } }).start();
    await run.server;
    run.cancel();
    await run.done;
    const started = lines.filter((l) => l.includes('"event":"server_started"'));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatch(/"level":30/);
    expect(started[0]).toMatch(/unauthenticated, local only/);
    expect(lines.some((l) => l.includes('server_insecure'))).toBe(false);
  });

  it('the names a bind answers to', () => {
    expect(allowedHosts('127.0.0.1', [])).toEqual({ names: ['127.0.0.1', 'localhost', '[::1]'], anyAddress: false });
    expect(allowedHosts('::1', [])).toEqual({ names: ['127.0.0.1', 'localhost', '[::1]'], anyAddress: false });
    expect(allowedHosts('10.0.0.5', ['Sluice.Internal', '::2', '[::3]:8081', 'proxy.example:443'])).toEqual({
      names: ['10.0.0.5', 'sluice.internal', '[::2]', '[::3]', 'proxy.example'],
      anyAddress: false,
    });
    expect(allowedHosts('0.0.0.0', [])).toEqual({ names: ['127.0.0.1', 'localhost', '[::1]'], anyAddress: true });
  });
});

describe('sluice run --host', () => {
  const job = join(new URL('../../', import.meta.url).pathname, 'test/fixtures/jobs/live-job.ts');

  it('--host 0.0.0.0 without --insecure: refused at start, the error names --insecure', async () => {
    const p = startSluice(['run', job, '--host', '0.0.0.0', '--port', '0', '--', dir()]);
    try {
      const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
      expect(code).not.toBe('still running');
      expect(code).not.toBe(0);
      expect(p.stderr()).toMatch(/INSECURE_BIND/);
      expect(p.stderr()).toMatch(/--insecure/);
      expect(p.stderr()).not.toMatch(/server_started/);
    } finally {
      stop(p.child.pid);
    }
  }, 60_000);

  it('--insecure --allowed-host: serves, with the warning, and answers to the name given', async () => {
    const p = startSluice(['run', job, '--host', '0.0.0.0', '--port', '0', '--insecure', '--allowed-host', 'sluice.internal', '--no-progress', '--', dir()]);
    try {
      const url = await serverUrl(p);
      await p.waitFor(/"event":"server_insecure"/);
      const port = Number(new URL(url).port);
      expect(await statusFor(port, '/readyz', `sluice.internal:${port}`)).not.toBe(421);
      expect(await statusFor(port, '/readyz', `evil.example:${port}`)).toBe(421);
    } finally {
      stop(p.child.pid);
      await p.exited;
    }
  }, 60_000);
});
