import { mkdtempSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileKeyStore, SubjectKeys } from '../../src/index.js';
import type { StartedJob } from '../../src/launch/job.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';
import { forgetCommand } from '../../src/cli/commands/forget.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-forget-'));
const keys = new SubjectKeys({ store: new FileKeyStore(join(dir, 'keys.json')), masterKey: randomBytes(32).toString('hex') });
let run: StartedJob;
let url: string;

beforeAll(async () => {
  run = liveJob({
    dir: join(dir, 'cp'),
    server: { port: 0, auth: { tokens: [{ token: 'op', subject: 'otto', roles: ['operator'] }, { token: 'view', subject: 'vera', roles: ['viewer'] }] }, audit: { dir: join(dir, 'audit') }, privacy: { keys } },
  }).start();
  url = (await run.server)!.url;
});
afterAll(async () => {
  run.cancel();
  await run.done.catch(() => {});
  await keys.close();
});

const forget = (token: string, subject: string) => fetch(`${url}/jobs/live/forget`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ subject }) });

describe('POST /jobs/:id/forget', () => {
  it('an operator forgets a subject (its key is gone); a viewer is refused 403; both are audited without the subject', async () => {
    await keys.keyOf('user-42', true);
    const denied = await forget('view', 'user-42');
    expect(denied.status).toBe(403);
    expect(await keys.keyOf('user-42', false)).toBeDefined();
    const ok = await forget('op', 'user-42');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ forgotten: true });
    expect(await keys.keyOf('user-42', false)).toBeUndefined();
    const day = new Date().toISOString().slice(0, 10);
    const audit = readFileSync(join(dir, 'audit', `audit-${day}.jsonl`), 'utf8');
    const entries = audit.trim().split('\n').map((l) => JSON.parse(l) as { action: string; subject: string; result: string });
    expect(entries.filter((e) => e.action === 'forget').map((e) => [e.subject, e.result])).toEqual([
      ['vera', 'refused'],
      ['otto', 'ok'],
    ]);
    expect(audit).not.toContain('user-42');
  });

  it('sluice forget does the same from the command line: an operator’s token forgets, a viewer’s is refused (exit 1), no --subject is a usage error', async () => {
    await keys.keyOf('user-7', true);
    expect(await forgetCommand(['live', '--subject', 'user-7', '--url', url, '--token', 'view'])).toBe(1);
    expect(await keys.keyOf('user-7', false)).toBeDefined();
    expect(await forgetCommand(['live', '--subject', 'user-7', '--url', url, '--token', 'op'])).toBe(0);
    expect(await keys.keyOf('user-7', false)).toBeUndefined();
    expect(await forgetCommand(['live', '--url', url, '--token', 'op'])).toBe(2);
  });
});
