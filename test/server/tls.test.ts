import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/index.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';
import { httpsRequest, makeCerts } from '../connectors/shared/tls-certs.js';

// Issue 17: the REST API, dashboard and /metrics over HTTPS, and with mutual TLS.

const certs = makeCerts();
const dir = () => join(mkdtempSync(join(tmpdir(), 'sluice-tls-server-')), 'cp');
const ca = certs.pem('ca.pem');
const client = { cert: certs.pem('client.pem'), key: certs.pem('client.key') };

describe('the REST server over HTTPS', () => {
  let run: StartedJob;
  let url: string;
  beforeAll(async () => {
    run = liveJob({ dir: dir(), server: { port: 0, audit: false, tls: { cert: certs.path('server.pem'), key: { file: certs.path('server.key') } } } }).start();
    url = (await run.server)!.url;
  });
  afterAll(async () => {
    run.cancel();
    await run.done.catch(() => {});
  });

  it('serves the API, the dashboard and /metrics at an https URL', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const path of ['/healthz', '/', '/metrics', '/jobs']) {
      const r = await httpsRequest(`${url}${path}`, { ca });
      expect(r, path).toMatchObject({ status: 200 });
    }
  });

  it('a client that does not trust its CA refuses it; plain HTTP gets no answer', async () => {
    expect(await httpsRequest(`${url}/healthz`)).toMatchObject({ error: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
    const plain = await fetch(`${url.replace('https', 'http')}/healthz`).then((r) => r.status, (e: Error) => e.name);
    expect(plain).not.toBe(200);
  });

  it('takes a control request from its own https origin', async () => {
    const job = (JSON.parse(((await httpsRequest(`${url}/jobs`, { ca })) as { body: string }).body) as Array<{ id: string }>)[0]!.id;
    const other = await httpsRequest(`${url}/jobs/${job}/savepoints`, { ca, method: 'POST', body: '{}', headers: { 'content-type': 'application/json', origin: url.replace('https', 'http') } });
    expect(other).toMatchObject({ status: 403 });
    expect((other as { body: string }).body).toContain('CROSS_ORIGIN_REFUSED');
    const own = await httpsRequest(`${url}/jobs/${job}/savepoints`, { ca, method: 'POST', body: '{}', headers: { 'content-type': 'application/json', origin: url } });
    expect((own as { body: string }).body).not.toContain('CROSS_ORIGIN_REFUSED');
  });
});

describe('the REST server with mutual TLS', () => {
  let run: StartedJob;
  let url: string;
  beforeAll(async () => {
    // Beyond loopback without tokens: mutual TLS is the authentication.
    run = liveJob({ dir: dir(), server: { host: '0.0.0.0', port: 0, audit: false, tls: { cert: certs.path('server.pem'), key: certs.path('server.key'), ca: certs.path('ca.pem') } } }).start();
    url = (await run.server)!.url.replace('0.0.0.0', '127.0.0.1');
  });
  afterAll(async () => {
    run.cancel();
    await run.done.catch(() => {});
  });

  it('answers a client with a certificate of its CA', async () => {
    expect(await httpsRequest(`${url}/jobs`, { ca, ...client })).toMatchObject({ status: 200 });
  });

  it('refuses a client without a certificate, or with one of another CA, in the handshake', async () => {
    for (const who of [{}, { cert: certs.pem('stranger.pem'), key: certs.pem('stranger.key') }]) {
      const r = await httpsRequest(`${url}/jobs`, { ca, ...who });
      expect(r).toHaveProperty('error');
      expect((r as { error: Error }).error.message).toMatch(/alert|certificate|socket hang up|ECONNRESET/i);
    }
  });
});

it('a server certificate file that is missing fails the start, naming it', () => {
  expect(() => liveJob({ dir: dir(), server: { port: 0, tls: { cert: '/nonexistent/server.pem', key: certs.path('server.key') } } }).start()).toThrow(/tls.cert file \/nonexistent\/server.pem cannot be read/);
});
