import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

/** Runs the real `sluice` command; resolves with its exit code and output. */
async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [join(root, 'bin/sluice.mjs'), ...args], { cwd: root, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function jobFile(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  const file = join(dir, 'job.ts');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }'); // job files are ES modules
  writeFileSync(file, `import { Job, fromCollection } from '${join(root, 'src/index.ts')}';\n${body}`);
  return file;
}

describe('sluice command', () => {
  it('runs a TypeScript job file without a build step', async () => {
    const { code, stdout } = await sluice('run', 'examples/clicks-per-user.ts');
    expect(code).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { user: string; clicks: number });
    // Every click of the sample file is counted once, in some user's minute.
    expect(rows.reduce((n, r) => n + r.clicks, 0)).toBe(200);
    expect(new Set(rows.map((r) => r.user)).size).toBeGreaterThan(1);
  }, 60_000);

  it('runs a job file with --parallelism 2 (worker threads) to the same results', async () => {
    const one = await sluice('run', 'examples/clicks-per-user.ts');
    const two = await sluice('run', 'examples/clicks-per-user.ts', '--parallelism', '2', '--log-level', 'silent');
    expect(two.code).toBe(0);
    const lines = (s: string) => s.trim().split('\n').sort();
    expect(lines(two.stdout)).toEqual(lines(one.stdout));
    expect(await sluice('run', 'examples/clicks-per-user.ts', '--parallelism', 'two')).toMatchObject({ code: 2 });
  }, 60_000);

  it('explains the plan without running', async () => {
    const { code, stdout } = await sluice('run', 'examples/clicks-per-user.ts', '--explain');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Job 'clicks-per-user'/);
    expect(stdout).toMatch(/count-per-user\s+process/);
  }, 60_000);

  it('exits 1 with the step and record when the job fails', async () => {
    const file = jobFile(`const job = new Job();
job.source(fromCollection([1, 2, 3]), { uid: 'n' }).map((x) => { if (x === 2) throw new Error('two'); return x; }, { uid: 'picky' }).print();
export default job;`);
    const { code, stderr } = await sluice('run', file);
    expect(code).toBe(1);
    expect(stderr).toMatch(/USER_FUNCTION_FAILED/);
    expect(stderr).toMatch(/step 'picky'.*two.*on record 2/);
  }, 60_000);

  it('exits 3 for a file that exports no job, 2 for a wrong command line', async () => {
    const bad = await sluice('run', jobFile('export default 42;'));
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/JOB_FILE_INVALID/);
    expect((await sluice('run')).code).toBe(2);
    expect((await sluice('frobnicate')).code).toBe(2);
    const timeout = await sluice('run', 'job.ts', '--cluster', 'c', '--kafka', '127.0.0.1:9092', '--session-timeout', 'soon');
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain("--session-timeout takes a duration such as 3s or 500ms, got 'soon'");
    const help = await sluice('run', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sluice run/);
  }, 60_000);
});
