import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { progressText } from '../../src/cli/progress.js';
import { liveJob, metricsJob } from '../fixtures/jobs/observed-jobs.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/sluice.mjs');
const run = promisify(execFile);

async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [bin, ...args], { cwd: root, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('sluice commands against a running job', () => {
  it('run serves the API; list, status, logs, savepoint and cancel talk to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    const child = spawn('node', [bin, 'run', join(root, 'test/fixtures/jobs/live-job.ts'), '--port', '0', '--', join(dir, 'cp'), join(dir, 'savepoints')], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const m = /"event":"server_started","url":"([^"]+)"/.exec(stderr);
          if (m) {
            clearInterval(t);
            resolve(m[1]!);
          }
        }, 50);
        setTimeout(() => reject(new Error(`no server line in: ${stderr}`)), 30_000);
      });
      // The logs are JSON lines with the job id.
      expect(stderr).toMatch(/\{"level":30,"time":\d+,"job":"live","event":"job_started"/);
      await new Promise((r) => setTimeout(r, 1200));

      const list = await sluice('list', '--url', url);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^JOB\s+STATUS/);
      expect(list.stdout).toMatch(/live\s+running/);

      const status = await sluice('status', 'live', '--url', url);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/job live: running/);
      expect(status.stdout).toMatch(/per-user\s+window\s+\d+/);

      const logs = await sluice('logs', '--url', url, '-n', '5');
      expect(logs.code).toBe(0);
      expect(logs.stdout).toMatch(/INFO /);

      // A name resolves in the job's savepoint directory; an absolute path inside it is taken as it is.
      const savepoint = await sluice('savepoint', '--url', url, '--path', 'sp');
      expect(savepoint.code, savepoint.stderr).toBe(0);
      expect(savepoint.stdout.trim()).toBe(join(dir, 'savepoints', 'sp'));
      expect(existsSync(join(dir, 'savepoints', 'sp'))).toBe(true);
      const absolute = await sluice('savepoint', '--url', url, '--path', join(dir, 'savepoints', 'sp-2'));
      expect(absolute.code, absolute.stderr).toBe(0);
      expect(absolute.stdout.trim()).toBe(join(dir, 'savepoints', 'sp-2'));
      // Anywhere else is refused, and the error says where savepoints go and how to move them.
      const elsewhere = await sluice('savepoint', '--url', url, '--path', join(dir, 'elsewhere'));
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toMatch(/SAVEPOINT_PATH_REFUSED/);
      expect(elsewhere.stderr).toContain(`go inside ${join(dir, 'savepoints')}/`);
      expect(elsewhere.stderr).toMatch(/savepointDir/);
      expect(existsSync(join(dir, 'elsewhere'))).toBe(false);

      expect((await sluice('status', 'other', '--url', url)).code).toBe(4);

      const cancel = await sluice('cancel', '--url', url);
      expect(cancel.code).toBe(0);
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/"event":"job_cancelled"/);
    } finally {
      child.kill();
    }
  }, 90_000);

  it('every command has --help; no job answering is exit code 4', async () => {
    for (const cmd of ['run', 'list', 'status', 'stop', 'cancel', 'savepoint', 'logs', 'nexmark', 'cluster']) {
      const r = await sluice(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage:\\s+sluice ${cmd}`));
    }
    const none = await sluice('status', '--url', 'http://127.0.0.1:9');
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/SERVER_UNAVAILABLE/);
    expect((await sluice('list', '--bogus')).code).toBe(2);
  }, 90_000);
});

describe('the progress line of sluice run', () => {
  it('bounded: events, rate, percent from the source backlog', async () => {
    const { job } = metricsJob({ dir: mkdtempSync(join(tmpdir(), 'sluice-progress-')) });
    const r = job.start();
    await r.done;
    expect(progressText(r.monitor, true)).toMatch(/^metrics-job: 2010 events · \d+\/s · 100\.0%/);
  });

  it('unbounded: rate, watermark lag, last checkpoint', async () => {
    const r = liveJob({ dir: mkdtempSync(join(tmpdir(), 'sluice-progress-')) }).start();
    await new Promise((res) => setTimeout(res, 1500));
    r.monitor.sampler.sample();
    const text = progressText(r.monitor, false);
    r.cancel();
    await r.done;
    expect(text).toMatch(/^live: \d+(\.\d+k)? events · \d+(\.\d+k)?\/s · watermark lag \d+ms · checkpoint \d+ completed/);
  });
});
