import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { httpsRequest, makeCerts } from '../connectors/shared/tls-certs.js';
import { serverUrl, startSluice, stopProcesses, type SluiceProcess } from './processes.js';

// Issue 17: `sluice run --tls-cert --tls-key --tls-ca` serves the dashboard and API over mutual TLS.

const certs = makeCerts();
const running: SluiceProcess[] = [];
afterEach(() => stopProcesses(running.splice(0)));

it('sluice run --tls-cert --tls-key --tls-ca serves https to clients with a certificate of the CA only', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-run-tls-')), 'cp');
  const p = startSluice(['run', 'test/fixtures/jobs/live-job.ts', '--port', '0', '--no-progress', '--tls-cert', certs.path('server.pem'), '--tls-key', certs.path('server.key'), '--tls-ca', certs.path('ca.pem'), '--', dir]);
  running.push(p);
  const url = await serverUrl(p);
  expect(url).toMatch(/^https:\/\//);
  const ca = certs.pem('ca.pem');
  expect(await httpsRequest(`${url}/jobs`, { ca, cert: certs.pem('client.pem'), key: certs.pem('client.key') })).toMatchObject({ status: 200 });
  expect(await httpsRequest(`${url}/jobs`, { ca })).toHaveProperty('error');
}, 60_000);

it('sluice run --tls-cert without --tls-key is refused, saying they go together', async () => {
  const p = startSluice(['run', 'test/fixtures/jobs/live-job.ts', '--port', '0', '--no-progress', '--tls-cert', certs.path('server.pem')]);
  running.push(p);
  expect(await p.exited).not.toBe(0);
  expect(p.stderr()).toMatch(/--tls-cert and --tls-key go together/);
}, 60_000);
