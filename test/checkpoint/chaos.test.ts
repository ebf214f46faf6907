import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const fixture = join(root, 'test/checkpoint/fixtures/chaos-job.ts');

/** Runs the chaos job with the real `sluice` command; kills it with SIGKILL after `killAfterMs` if given. */
function runJob(dir: string, killAfterMs?: number, rate?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = [join(root, 'bin/sluice.mjs'), 'run', fixture, '--', dir, ...(rate ? [String(rate)] : [])];
    const child = spawn('node', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

function committed(dir: string): string[] {
  const out = join(dir, 'out');
  return readdirSync(out)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(out, n), 'utf8').split('\n').filter(Boolean))
    .sort();
}

describe('chaos: SIGKILL at random moments', () => {
  it('after the final recovery the output equals an uninterrupted run, as a multiset', async () => {
    const clean = mkdtempSync(join(tmpdir(), 'sluice-chaos-clean-'));
    const first = await runJob(clean, undefined, 1_000_000);
    expect(first.code, first.stderr).toBe(0);
    const expected = committed(clean);
    expect(expected.length).toBeGreaterThan(1000);

    const seed = Number(process.env.SLUICE_SEED ?? Date.now() % 1_000_000);
    // Three kills at random moments of a run that takes about 2 s of work plus start-up.
    const kills = fc.sample(fc.integer({ min: 900, max: 2600 }), { seed, numRuns: 3 });
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
    expect(committed(dir), `seed ${seed}, killed after ${killed.join(', ')} ms`).toEqual(expected);
  }, 120_000);
});
