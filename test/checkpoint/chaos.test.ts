import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedLines } from './helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const fixture = join(root, 'test/checkpoint/fixtures/chaos-job.ts');

/** Checkpoints completed in `dir` so far (their manifests exist). */
function checkpointsIn(dir: string): number {
  const cp = join(dir, 'checkpoints');
  if (!existsSync(cp)) return 0;
  return readdirSync(cp).filter((n) => existsSync(join(cp, n, '_manifest.json'))).length;
}

/**
 * Runs the chaos job with the real `sluice` command. With `killAfterMs`, it is killed with
 * SIGKILL that long after it completes a new checkpoint (so that the kill lands while the
 * job works, however slow start-up is on a loaded machine).
 */
function runJob(dir: string, killAfterMs?: number, rate?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = [join(root, 'bin/sluice.mjs'), 'run', fixture, '--', dir, ...(rate ? [String(rate)] : [])];
    const child = spawn('node', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== undefined) {
      // Retention keeps one checkpoint directory; a new one shows as a new name.
      const seen = new Set(existsSync(join(dir, 'checkpoints')) ? readdirSync(join(dir, 'checkpoints')) : []);
      const watch = setInterval(() => {
        const fresh = checkpointsIn(dir) > 0 && readdirSync(join(dir, 'checkpoints')).some((n) => !seen.has(n));
        if (!fresh) return;
        clearInterval(watch);
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }, 10);
      child.on('exit', () => clearInterval(watch));
    }
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}


describe('chaos: SIGKILL at random moments', () => {
  it('after the final recovery the output equals an uninterrupted run, as a multiset', async () => {
    const clean = mkdtempSync(join(tmpdir(), 'sluice-chaos-clean-'));
    const first = await runJob(clean, undefined, 1_000_000);
    expect(first.code, first.stderr).toBe(0);
    const expected = committedLines(clean);
    expect(expected.length).toBeGreaterThan(1000);

    const seed = Number(process.env.SLUICE_SEED ?? Date.now() % 1_000_000);
    // Three kills at random moments (after a checkpoint) of a run that takes about 2 s of work.
    const kills = fc.sample(fc.integer({ min: 0, max: 700 }), { seed, numRuns: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-'));
    const killed: number[] = [];
    for (const after of kills) {
      const r = await runJob(dir, after);
      if (r.signal === 'SIGKILL') killed.push(after);
      else expect(r.code, `seed ${seed}: ${r.stderr}`).toBe(0);
    }
    const last = await runJob(dir);
    expect(last.code, `seed ${seed}: ${last.stderr}`).toBe(0);
    // The last run went on from where a killed one had checkpointed, by itself.
    expect(last.stderr).toMatch(/finished after .*resumed from checkpoint \d+/);
    expect(killed.length, `seed ${seed}: no run was killed mid-way`).toBeGreaterThan(0);
    expect(committedLines(dir), `seed ${seed}, killed after ${killed.join(', ')} ms`).toEqual(expected);
  }, 120_000);
});
