import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/launch/job.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';
import { until } from '../cli/processes.js';

// Savepoint paths given through the REST API (issue 17's probe wrote one to a path of
// `../` segments, and one over the job's latest checkpoint). The job's savepoint directory
// here holds its checkpoint directory too (`savepointDir: base`, checkpoints in base/cp),
// the layout where a path can most easily name a checkpoint.

let run: StartedJob;
let url: string;
const base = mkdtempSync(join(tmpdir(), 'sluice-sp-path-'));
const outside = mkdtempSync(join(tmpdir(), 'sluice-sp-outside-'));

beforeAll(async () => {
  run = liveJob({ dir: join(base, 'cp'), savepointDir: base, server: { port: 0 } }).start();
  url = (await run.server)!.url;
  await until(() => (run.checkpoints.some((c) => c.status === 'completed') ? true : undefined), 20_000, () => 'no checkpoint');
});
afterAll(async () => {
  run.cancel();
  await run.done;
});

async function post(route: string, body: unknown): Promise<{ status: number; body: { path?: string; error?: { code: string; message: string; hint?: string } } }> {
  const res = await fetch(`${url}/jobs/live/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as never };
}

async function refused(route: string, body: { path: string; savepoint?: boolean }): Promise<string> {
  const r = await post(route, body);
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.error!.code).toBe('SAVEPOINT_PATH_REFUSED');
  expect(r.body.error!.hint).toMatch(/savepointDir/);
  return r.body.error!.message;
}

describe('POST /jobs/:id/savepoints confines its path to the savepoint directory', () => {
  it('a relative name resolves inside it', async () => {
    const r = await post('savepoints', { path: 'sp-ok' });
    expect(r.status).toBe(200);
    expect(r.body.path).toBe(join(base, 'sp-ok'));
    expect(existsSync(join(base, 'sp-ok', '_manifest.json'))).toBe(true);
  });

  it("a path of '..' segments that leaves it is refused, and nothing is written", async () => {
    const escape = '../'.repeat(12) + join(outside.slice(1), 'escaped');
    expect(await refused('savepoints', { path: escape })).toMatch(/leaves the savepoint directory/);
    expect(existsSync(join(outside, 'escaped'))).toBe(false);
    await refused('savepoints', { path: 'a/../../x' });
  });

  it('an absolute path outside it is refused; one inside it is taken', async () => {
    expect(await refused('savepoints', { path: join(outside, 'abs') })).toContain(`go inside ${base}/`);
    expect(existsSync(join(outside, 'abs'))).toBe(false);
    expect((await post('savepoints', { path: join(base, 'sp-abs') })).status).toBe(200);
  });

  it("the job's checkpoint directory, its latest checkpoint, or a new directory in it is refused; the checkpoint stays a checkpoint", async () => {
    const latest = readdirSync(join(base, 'cp')).filter((n) => /^chk-\d+$/.test(n)).sort().at(-1)!;
    const manifest = readFileSync(join(base, 'cp', latest, '_manifest.json'), 'utf8');
    await refused('savepoints', { path: 'cp' });
    await refused('savepoints', { path: join(base, 'cp', latest) });
    expect(await refused('savepoints', { path: 'cp/new-sp' })).toMatch(/checkpoint directory/);
    // Retention may have deleted it since; if not, it was not touched.
    if (existsSync(join(base, 'cp', latest))) expect(readFileSync(join(base, 'cp', latest, '_manifest.json'), 'utf8')).toBe(manifest);
    expect(existsSync(join(base, 'cp', 'new-sp'))).toBe(false);
  });

  it("another job's directory, or a directory inside an earlier savepoint, is refused", async () => {
    mkdirSync(join(base, 'other-job'));
    writeFileSync(join(base, 'other-job', '_completed.json'), '{}');
    expect(await refused('savepoints', { path: 'other-job/sp' })).toMatch(/_completed\.json/);
    await refused('savepoints', { path: 'sp-ok' }); // exists already
    await refused('savepoints', { path: 'sp-ok/inner' });
  });

  it('a symbolic link out of the directory is not followed out', async () => {
    symlinkSync(outside, join(base, 'link'));
    expect(await refused('savepoints', { path: 'link/sp' })).toMatch(/symbolic link/);
    expect(existsSync(join(outside, 'sp'))).toBe(false);
  });

  it('POST /cancel with a savepoint outside the directory is refused before anything stops', async () => {
    await refused('cancel', { savepoint: true, path: '../stopped-here' });
    expect(run.monitor.status).toBe('running');
    expect(existsSync(join(base, '..', 'stopped-here'))).toBe(false);
  });

  it("the job's own running.savepoint(path) takes any path: the process chose it", async () => {
    const h = await run.savepoint(join(outside, 'programmatic'));
    expect(h.path).toBe(join(outside, 'programmatic'));
    expect(existsSync(join(outside, 'programmatic', '_manifest.json'))).toBe(true);
  });
});
