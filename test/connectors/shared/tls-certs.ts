/**
 * Test certificates made with openssl by `scripts/tls/make-certs.sh` (a CA, a server
 * certificate for localhost/127.0.0.1, one for a wrong host, an expired one, a client
 * certificate, and an unknown CA with its own client certificate), and an HTTPS request
 * that reports what the client or server refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/tls/make-certs.sh', import.meta.url));

/** Makes a fresh set in a temporary directory; returns the path of each file by name (`path('ca.pem')`). */
export function makeCerts(): { dir: string; path: (name: string) => string; pem: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-certs-'));
  const r = spawnSync('bash', [script, dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`make-certs.sh failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return { dir, path: (name) => join(dir, name), pem: (name) => readFileSync(join(dir, name), 'utf8') };
}

/** What an HTTPS request got: the status and body, or the error that ended it. */
export type HttpsResult = { status: number; body: string } | { error: NodeJS.ErrnoException };

/** One HTTPS request with the client's CA and certificate, resolving (never rejecting) with what happened. */
export function httpsRequest(url: string, opts: { method?: string; body?: string; headers?: Record<string, string>; ca?: string; cert?: string; key?: string; servername?: string } = {}): Promise<HttpsResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, cert: opts.cert, key: opts.key, servername: opts.servername, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.end(opts.body);
  });
}
