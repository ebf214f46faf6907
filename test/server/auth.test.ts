import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import type { StartedJob } from '../../src/launch/job.js';
import type { AuditEntry } from '../../src/server/audit-log.js';
import { checkServerOptions } from '../../src/server/server.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';

// Bearer tokens and roles on a real server, over real HTTP: static tokens from a file, and
// JWTs signed by keys made here, verified against a JWKS served by a local HTTP server.

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-auth-'));
const auditDir = join(dir, 'audit');
const ISSUER = 'https://id.test.example';
const AUDIENCE = 'sluice';

let run: StartedJob;
let url: string;
let jwks: Server;
let key: CryptoKey;
let strangerKey: CryptoKey;

const tokensFile = join(dir, 'tokens.json');
writeFileSync(
  tokensFile,
  JSON.stringify({
    tokens: [
      { token: 'viewer-token', subject: 'vera', roles: ['viewer'] },
      // Only the hash is in the file: sha256('operator-token').
      { sha256: '7b5b2d3b1c0c4a8b5c1f8e8a0c3f1e2a4b9d7c6e5f4a3b2c1d0e9f8a7b6c5d4e', subject: 'nobody', roles: ['operator'] },
      { token: 'operator-token', subject: 'otto', roles: ['operator'], claims: { team: 'payments' } },
      { token: 'admin-token', subject: 'ada', roles: ['admin'] },
    ],
  }),
);

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`;
  run = liveJob({
    dir: join(dir, 'cp'),
    savepointDir: join(dir, 'savepoints'),
    labels: { team: 'payments' },
    server: {
      port: 0,
      auth: {
        tokensFile,
        jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE },
        // On top of roles: only the job's own team (or an admin) acts on it; anyone with a role reads.
        policy: {
          rules: [
            { name: 'own team', effect: 'allow', labels: { team: { claim: 'team' } } },
            { name: 'admins', effect: 'allow', claims: { roles: 'admin' } },
            { name: 'reads', effect: 'allow', actions: ['view', 'metrics'] },
          ],
          default: 'deny',
        },
      },
      audit: { dir: auditDir },
    },
  }).start();
  url = (await run.server)!.url;
});
afterAll(async () => {
  run.cancel();
  await run.done.catch(() => {});
  jwks.close();
});

function jwt(claims: Record<string, unknown>, opts: { key?: CryptoKey; exp?: string | number; aud?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? key);
}

async function call(method: string, path: string, token?: string): Promise<{ status: number; code?: string; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  const body = res.headers.get('content-type')?.includes('json') ? ((await res.json()) as { error?: { code: string } }) : {};
  return { status: res.status, code: (body as { error?: { code: string } }).error?.code, headers: res.headers };
}

describe('static bearer tokens', () => {
  it('401 without a token, with an unknown one, with another scheme; the answer asks for a Bearer token', async () => {
    for (const [what, r] of [
      ['no token', await call('GET', '/jobs')],
      ['unknown token', await call('GET', '/jobs', 'nope')],
      ['empty-looking token', await call('GET', '/jobs/live', 'viewer-token-but-longer')],
    ] as const) {
      expect(r.status, what).toBe(401);
      expect(r.code, what).toBe('UNAUTHENTICATED');
      expect(r.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
    }
    const basic = await fetch(`${url}/jobs`, { headers: { authorization: 'Basic dmVyYTp4' } });
    expect(basic.status).toBe(401);
  });

  it('viewer reads (jobs, job, metrics); 403 on savepoint, stop, cancel', async () => {
    expect((await call('GET', '/jobs', 'viewer-token')).status).toBe(200);
    expect((await call('GET', '/jobs/live', 'viewer-token')).status).toBe(200);
    expect((await call('GET', '/jobs/live/metrics', 'viewer-token')).status).toBe(200);
    expect((await call('GET', '/metrics', 'viewer-token')).status).toBe(200);
    for (const route of ['/jobs/live/savepoints', '/jobs/live/stop', '/jobs/live/cancel']) {
      const r = await call('POST', route, 'viewer-token');
      expect(r.status, route).toBe(403);
      expect(r.code, route).toBe('ACCESS_DENIED');
    }
    expect(run.monitor.status).toBe('running');
  });

  it('/metrics needs a token unless metricsOpen; probes and the dashboard page are open', async () => {
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/')).status).toBe(200);
    // The event stream takes the token as a parameter (EventSource cannot send headers).
    expect((await call('GET', '/jobs/live/events')).status).toBe(401);
    const ac = new AbortController();
    const sse = await fetch(`${url}/jobs/live/events?access_token=viewer-token`, { signal: ac.signal });
    expect(sse.status).toBe(200);
    ac.abort();
  });

  it('operator takes a savepoint (200); an unknown POST route needs admin', async () => {
    const r = await call('POST', '/jobs/live/savepoints', 'operator-token');
    expect(r.status).toBe(200);
    expect((await call('POST', '/jobs/live/configure', 'operator-token')).status).toBe(403);
    expect((await call('POST', '/jobs/live/configure', 'admin-token')).status).toBe(404);
  });
});

describe('JWTs verified against a JWKS', () => {
  it('a valid JWT with the operator role takes a savepoint; with viewer it is refused 403', async () => {
    expect((await call('POST', '/jobs/live/savepoints', await jwt({ sub: 'alice', roles: ['operator'], team: 'payments' }))).status).toBe(200);
    const viewer = await call('POST', '/jobs/live/cancel', await jwt({ sub: 'bob', roles: 'viewer' }));
    expect(viewer.status).toBe(403);
    expect((await call('GET', '/jobs/live', await jwt({ sub: 'bob', roles: 'viewer' }))).status).toBe(200);
  });

  it.each([
    ['expired', () => jwt({ sub: 'alice', roles: ['admin'] }, { exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['signed by a key not in the JWKS', () => jwt({ sub: 'alice', roles: ['admin'] }, { key: strangerKey })],
    ['for another audience', () => jwt({ sub: 'alice', roles: ['admin'] }, { aud: 'other' })],
    ['without a subject', () => jwt({ roles: ['admin'] })],
  ])('a JWT %s is refused 401', async (_what, make) => {
    const r = await call('GET', '/jobs/live', await make());
    expect(r.status).toBe(401);
    expect(r.code).toBe('UNAUTHENTICATED');
  });

  it("the policy: an operator of another team (a JWT claim) cannot act on the job, but reads it", async () => {
    const other = await jwt({ sub: 'sam', roles: ['operator'], team: 'search' });
    const r = await fetch(`${url}/jobs/live/savepoints`, { method: 'POST', headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/policy denies it/);
    expect((await call('GET', '/jobs/live', other)).status).toBe(200);
  });

  it('a JWT without any role reads nothing (403)', async () => {
    expect((await call('GET', '/jobs/live', await jwt({ sub: 'carol' }))).status).toBe(403);
  });
});

describe('the CLI sends its token', () => {
  const sluice = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)('node', [join(root, 'bin/sluice.mjs'), ...args], { cwd: root, timeout: 60_000, env: { ...process.env, SLUICE_TOKEN: '' } });
      return { code: 0, stdout, stderr };
    } catch (e) {
      return e as { code: number; stdout: string; stderr: string };
    }
  };
  it('status without a token fails with UNAUTHENTICATED; with --token or --token-file it answers; a viewer cannot savepoint', async () => {
    const none = await sluice('status', 'live', '--url', url);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/UNAUTHENTICATED/);
    expect((await sluice('status', 'live', '--url', url, '--token', 'viewer-token')).stdout).toMatch(/job live: running/);
    const file = join(dir, 'token');
    writeFileSync(file, 'viewer-token\n');
    expect((await sluice('status', 'live', '--url', url, '--token-file', file)).stdout).toMatch(/job live: running/);
    const denied = await sluice('savepoint', 'live', '--url', url, '--token', 'viewer-token');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/ACCESS_DENIED/);
  }, 60_000);
});

describe('the audit log', () => {
  it('holds every control action and every refusal: who, role, action, job, address, result', async () => {
    await new Promise((r) => setTimeout(r, 100));
    const files = readdirSync(auditDir);
    expect(files).toEqual([`audit-${new Date().toISOString().slice(0, 10)}.jsonl`]);
    const entries = readFileSync(join(auditDir, files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    const savepoints = entries.filter((e) => e.action === 'savepoint' && e.result === 'ok');
    expect(savepoints.map((e) => e.subject)).toEqual(expect.arrayContaining(['otto', 'alice']));
    expect(savepoints[0]).toMatchObject({ job: 'live', method: 'POST', path: '/jobs/live/savepoints', status: 200, address: '127.0.0.1' });
    expect(entries.find((e) => e.subject === 'otto')?.roles).toEqual(['operator']);
    const denied = entries.filter((e) => e.result === 'refused' && e.code === 'ACCESS_DENIED');
    expect(denied.map((e) => e.action)).toEqual(expect.arrayContaining(['savepoint', 'stop', 'cancel']));
    expect(denied.find((e) => e.action === 'stop')).toMatchObject({ subject: 'vera', status: 403 });
    const unauth = entries.filter((e) => e.code === 'UNAUTHENTICATED');
    expect(unauth.length).toBeGreaterThanOrEqual(7);
    expect(unauth.every((e) => e.subject === null && e.result === 'refused' && e.status === 401)).toBe(true);
    // Reads that were let through are not control actions.
    expect(entries.some((e) => e.action === 'view' && e.result === 'ok')).toBe(false);
    // No token ever reaches the log.
    expect(JSON.stringify(entries)).not.toMatch(/viewer-token|operator-token|admin-token|eyJ/);
  });
});

describe('binding beyond loopback', () => {
  it('needs authentication or --insecure', () => {
    expect(() => checkServerOptions({ host: '0.0.0.0' })).toThrow(expect.objectContaining({ code: 'INSECURE_BIND' }) as SluiceError);
    expect(() => checkServerOptions({ host: '0.0.0.0', auth: { tokensFile } })).not.toThrow();
    expect(() => checkServerOptions({ host: '0.0.0.0', auth: { metricsOpen: true } })).toThrow(expect.objectContaining({ code: 'INSECURE_BIND' }) as SluiceError);
  });
  it('refuses a broken tokens file at start, without echoing a token', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ tokens: [{ token: 'sekrit-value', subject: 'x', roles: ['root'] }] }));
    let err: unknown;
    try {
      checkServerOptions({ auth: { tokensFile: bad } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'AUTH_CONFIG_INVALID' });
    expect(String((err as Error).message)).not.toContain('sekrit-value');
  });
});
