/**
 * `sluice/testing` works without vitest: vitest is an optional peer dependency that only
 * the shared suites need (it refuses to load outside its runner, as it would if it were
 * not installed), so the harness must import and run in a plain Node process, and a suite
 * called there must say what it needs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

describe('sluice/testing outside vitest', () => {
  it('imports, runs the harness, and a shared suite says it needs vitest', async () => {
    const script = `
      const kit = await import(${JSON.stringify(`${root}src/testing/index.ts`)});
      const h = kit.OperatorHarness.process({ processElement: (x, _ctx, out) => out.collect(x * 2) });
      h.processElement(21, 0);
      let suite = 'no error';
      try { kit.describeStateBackend('x', () => undefined); } catch (e) { suite = e.message; }
      console.log(JSON.stringify({ values: h.values, suite }));
    `;
    // Awaited, not spawnSync: a blocked worker fails the run on a busy machine.
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { values: number[]; suite: string };
    expect(out.values).toEqual([42]);
    expect(out.suite).toMatch(/run under vitest: install it/);
  }, 120_000);
});
