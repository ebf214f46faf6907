import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, counterLines, root, serverUrl, startSluice, until, type SluiceProcess } from './processes.js';

const fixture = (name: string) => join(root, 'test/cli/fixtures', name);

// Every process a test started (its own ones, and the process groups `sluice upgrade` left running).
const running: SluiceProcess[] = [];
const groups: number[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Version 1 of the counter, running in `dir` until it has checkpointed. */
async function runV1(dir: string): Promise<{ v1: SluiceProcess; url: string }> {
  const v1 = startSluice(['run', fixture('counter-v1.ts'), '--port', '0', '--', join(dir, 'cp')], dir);
  running.push(v1);
  const url = await serverUrl(v1);
  await v1.waitFor(/"event":"checkpoint_completed"/);
  return { v1, url };
}

/** Runs `sluice upgrade ...args` in `dir`; resolves with its exit code and output. */
function upgrade(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'upgrade', ...args], { cwd: dir, timeout: 90_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

interface Outcome {
  status: 'upgraded' | 'rolled-back';
  job: string;
  url: string;
  pid: number;
  savepoint: string;
  stdout: string;
  stderr: string;
  reason?: string;
}

function outcome(stdout: string): Outcome {
  const o = JSON.parse(stdout.trim()) as Outcome;
  groups.push(o.pid);
  return o;
}

/** The counter lines a detached job has written to its stdout file, once there are at least `n`. */
function linesOf(file: string, n: number) {
  return until(
    () => {
      const lines = counterLines(readFileSync(file, 'utf8'));
      return lines.length >= n ? lines : undefined;
    },
    20_000,
    () => `fewer than ${n} lines in ${file}`,
  );
}

/** The counter's invariant across a restore: every line's count follows from its index (see fixtures/counter.ts). */
function expectContinued(lines: ReturnType<typeof counterLines>, version: number, before: ReturnType<typeof counterLines>) {
  expect(lines[0]!.i).toBeGreaterThan(0); // the generator resumed, not restarted
  expect(lines[0]!.i).toBeLessThanOrEqual(before.at(-1)!.i + 1); // from the savepoint, nothing skipped
  for (const l of lines) expect(l).toEqual({ v: version, i: l.i, key: l.i % 3, count: Math.floor(l.i / 3) + 1 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('sluice upgrade', () => {
  it('stops the job with a savepoint, starts the new version from it, and leaves it running once it has checkpointed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
    const { v1, url } = await runV1(dir);
    const r = await upgrade(dir, fixture('counter-v2.ts'), '--previous', fixture('counter-v1.ts'), '--url', url, '--port', '0', '--timeout', '30s', '--path', 'before-v2', '--', join(dir, 'cp'));
    expect(r.code, r.stderr).toBe(0);
    expect(await v1.exited).toBe(0);
    const o = outcome(r.stdout);
    expect(o).toMatchObject({ status: 'upgraded', job: 'counter' });
    // --path names the savepoint inside the job's savepoint directory (the API takes no path outside it).
    expect(o.savepoint).toBe(join(dir, '.sluice/savepoints/counter/before-v2'));
    expect(o.stdout.startsWith(join(dir, '.sluice/upgrades/'))).toBe(true);
    expect(r.stderr).toMatch(/upgraded: job 'counter' runs .*counter-v2\.ts at http:\/\/127\.0\.0\.1:\d+ and completed checkpoint \d+/);

    // The new version outlives the command, serves its API, and carries on from v1's state.
    const status = (await (await fetch(`${o.url}/jobs/counter`)).json()) as { status: string };
    expect(status.status).toBe('running');
    const checkpoints = (await (await fetch(`${o.url}/jobs/counter/checkpoints`)).json()) as { restoredFrom: number | null };
    expect(checkpoints.restoredFrom).not.toBeNull();
    expectContinued(await linesOf(o.stdout, 50), 2, counterLines(v1.stdout()));
  }, 90_000);

  it('rolls back to the previous job file when the new version fails at open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
    const { v1, url } = await runV1(dir);
    const r = await upgrade(dir, fixture('counter-fails-at-open.ts'), '--previous', fixture('counter-v1.ts'), '--url', url, '--port', '0', '--timeout', '30s', '--', join(dir, 'cp'));
    expect(r.code, r.stderr).toBe(5);
    expect(await v1.exited).toBe(0);
    const o = outcome(r.stdout);
    expect(o).toMatchObject({ status: 'rolled-back', job: 'counter' });
    expect(o.reason).toMatch(/it exited with code 1 before it was confirmed/);
    expect(r.stderr).toMatch(/version 3 cannot open/); // the new version's own error, from its log
    expect(r.stderr).toMatch(/rolled back: job 'counter' runs .*counter-v1\.ts again at http/);
    // The old version runs again, from the savepoint: its state is whole.
    expectContinued(await linesOf(o.stdout, 50), 1, counterLines(v1.stdout()));
  }, 90_000);

  it('rolls back when the new version runs but completes no checkpoint within --timeout, and stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
    const { v1, url } = await runV1(dir);
    const r = await upgrade(dir, fixture('counter-never-checkpoints.ts'), '--previous', fixture('counter-v1.ts'), '--url', url, '--port', '0', '--timeout', '4s', '--', join(dir, 'cp'));
    expect(r.code, r.stderr).toBe(5);
    const o = outcome(r.stdout);
    expect(o.reason).toBe('it did not manage to complete its first checkpoint in time');
    const stopped = Number(/stopping it \(pid (\d+)\)/.exec(r.stderr)?.[1]);
    groups.push(stopped);
    expect(alive(stopped)).toBe(false);
    expectContinued(await linesOf(o.stdout, 50), 1, counterLines(v1.stdout()));
  }, 90_000);

  it('leaves the running job alone when the new job file does not load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
    const { v1, url } = await runV1(dir);
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, 'export default 42;\n');
    const r = await upgrade(dir, broken, '--previous', fixture('counter-v1.ts'), '--url', url, '--', join(dir, 'cp'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/JOB_FILE_INVALID/);
    expect(r.stderr).toMatch(/does not load; the running job was left alone/);
    const status = (await (await fetch(`${url}/jobs/counter`)).json()) as { status: string };
    expect(status.status).toBe('running');
    expect(v1.child.exitCode).toBeNull();
  }, 90_000);

  it('refuses a wrong command line (2) and reports no running job (4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-upgrade-'));
    const noPrevious = await upgrade(dir, fixture('counter-v2.ts'));
    expect(noPrevious.code).toBe(2);
    expect(noPrevious.stderr).toMatch(/--previous <old-job.ts> is required/);
    expect((await upgrade(dir, fixture('counter-v2.ts'), '--previous', fixture('counter-v1.ts'), '--timeout', 'soon')).code).toBe(2);
    expect((await upgrade(dir, fixture('counter-v2.ts'), '--previous', fixture('counter-v1.ts'), '--log-level', 'warn')).code).toBe(2);
    const none = await upgrade(dir, fixture('counter-v2.ts'), '--previous', fixture('counter-v1.ts'), '--url', 'http://127.0.0.1:9');
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/SERVER_UNAVAILABLE/);
    const help = await upgrade(dir, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sluice upgrade/);
  }, 90_000);
});
