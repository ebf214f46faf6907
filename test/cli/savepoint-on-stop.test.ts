import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { counterLines, root, startSluice, stop, type SluiceProcess } from './processes.js';

const fixture = (name: string) => join(root, 'test/cli/fixtures', name);
const started: SluiceProcess[] = [];
const run = (args: string[], cwd: string) => {
  const p = startSluice(args, cwd);
  started.push(p);
  return p;
};
afterEach(() => {
  for (const p of started.splice(0)) stop(p.child.pid);
});

// What a container's `docker stop` / a pod's termination does: SIGTERM to `sluice run`.
describe('sluice run on SIGTERM', () => {
  it('with --savepoint-on-stop, stops with a savepoint that the next version starts from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-stop-'));
    const v1 = run(['run', fixture('counter-v1.ts'), '--port', '0', '--savepoint-on-stop', '--', join(dir, 'cp')], dir);
    await v1.waitFor(/"event":"checkpoint_completed"/);
    v1.child.kill('SIGTERM');
    expect(await v1.exited).toBe(0);
    const path = /savepoint (\S+) written \(checkpoint \d+\); job 'counter' stopping/.exec(v1.stderr())?.[1];
    expect(path, v1.stderr()).toBeDefined();
    // The default place, relative to the job's working directory (a volume in a container).
    expect(path!.startsWith(join(dir, '.sluice/savepoints/counter/'))).toBe(true);
    expect(JSON.parse(readFileSync(join(path!, '_manifest.json'), 'utf8'))).toMatchObject({ kind: 'savepoint', jobName: 'counter' });
    expect(v1.stderr()).toMatch(/job 'counter' cancelled after/);

    const v2 = run(['run', fixture('counter-v2.ts'), '--port', '0', '--from-savepoint', path!, '--', join(dir, 'cp')], dir);
    await v2.waitFor(/"event":"checkpoint_completed"/);
    v2.child.kill('SIGTERM');
    expect(await v2.exited).toBe(0);
    const lines = counterLines(v2.stdout());
    expect(lines.length).toBeGreaterThan(0);
    // Both the generator's position and the counts came back from the savepoint.
    expect(lines[0]!.i).toBeGreaterThan(0);
    for (const l of lines) expect(l).toEqual({ v: 2, i: l.i, key: l.i % 3, count: Math.floor(l.i / 3) + 1 });
    // v2 starts where the savepoint was taken: no later than right after v1's last record.
    expect(lines[0]!.i).toBeLessThanOrEqual(counterLines(v1.stdout()).at(-1)!.i + 1);
  }, 60_000);

  it('with --savepoint-on-stop, cancels a job without checkpoints and says why there is no savepoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-stop-'));
    const p = run(['run', fixture('no-checkpoints.ts'), '--port', '0', '--savepoint-on-stop'], dir);
    await p.waitFor(/"event":"server_started"/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/no savepoint of job 'stateless' \(.*takes savepoints only with checkpoints on\); cancelling it/);
    expect(p.stderr()).toMatch(/job 'stateless' cancelled after/);
  }, 60_000);

  it('without it, cancels and keeps the checkpoints (no savepoint)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-sp-stop-'));
    const p = run(['run', fixture('counter-v1.ts'), '--port', '0', '--', join(dir, 'cp')], dir);
    await p.waitFor(/"event":"checkpoint_completed"/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).not.toMatch(/savepoint/);
    expect(existsSync(join(dir, '.sluice/savepoints'))).toBe(false);
    expect(existsSync(join(dir, 'cp'))).toBe(true);
  }, 60_000);
});
