import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const fixture = join(root, 'test/checkpoint/fixtures/http-job.ts');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function startJob(dir: string, port: number): ChildProcess {
  return spawn('node', [join(root, 'bin/sluice.mjs'), 'run', fixture, '--', dir, String(port)], { cwd: root, stdio: 'ignore' });
}

/** Posts one order; resolves true when the answer was 202 (acknowledged), false when refused or unreachable. */
async function post(port: number, id: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    return r.status === 202;
  } catch {
    return false;
  }
}

function committedIds(dir: string): number[] {
  const out = join(dir, 'out');
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(out, n), 'utf8').split('\n').filter(Boolean))
    .map((l) => (JSON.parse(l) as { id: number }).id);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP ingest with a durable log', () => {
  it('no acknowledged record is lost or doubled across a SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-http-'));
    const port = await freePort();
    const acked = new Set<number>();
    let child = startJob(dir, port);
    let id = 0;
    /** Waits for the job to listen (start-up compiles TypeScript), then posts for `ms`. */
    const postFor = async (ms: number) => {
      for (let i = 0; i < 300 && !(await post(port, -1)); i++) await sleep(100);
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const n = id++;
        if (await post(port, n)) acked.add(n);
        else await sleep(20);
      }
    };
    await postFor(1500); // the first run starts, takes orders, checkpoints
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const beforeKill = acked.size;
    expect(beforeKill).toBeGreaterThan(10);
    child = startJob(dir, port);
    await postFor(1500); // the second run resumes and takes more
    // Wait until everything acknowledged is committed (checkpoints every 50 ms).
    for (let i = 0; i < 100 && committedIds(dir).length < acked.size; i++) await sleep(100);
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    const ids = committedIds(dir).filter((x) => x >= 0); // -1: the probes
    const counts = new Map<number, number>();
    for (const x of ids) counts.set(x, (counts.get(x) ?? 0) + 1);
    const missing = [...acked].filter((x) => !counts.has(x));
    const doubled = [...counts].filter(([, c]) => c > 1).map(([x]) => x);
    expect(missing, `acknowledged but missing (of ${acked.size}, ${beforeKill} before the kill)`).toEqual([]);
    expect(doubled, 'committed twice').toEqual([]);
    expect(acked.size).toBeGreaterThan(beforeKill);
  }, 60_000);
});
