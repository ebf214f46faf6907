/**
 * A graceful stop loses nothing a source acknowledged: on SIGTERM, HTTP ingest (here without
 * a durable log, so it cannot replay) stops taking requests (503), hands out what it
 * accepted, and the job finishes: its final checkpoint lets the transactional file sink
 * commit. Before: 1,000 records answered 202, 0 committed, no file (the job was cancelled).
 * Beside a source that cannot stop (an endless generator here, Kafka in practice), the job
 * cannot finish: it takes a checkpoint once ingest has handed out what it accepted, lets
 * the sinks commit it, and ends as cancelled, its checkpoints kept. Before: cancelled at
 * once, the acknowledged records never committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, root, runProgram, serverUrl, startSluice, until, type SluiceProcess } from './processes.js';
import { committedPartLines } from '../checkpoint/helpers.js';

const running: SluiceProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The records committed in `partsDir`, parsed. */
const committedRecords = (partsDir: string): unknown[] => committedPartLines(partsDir).map((l) => JSON.parse(l) as unknown);

describe('sluice run: SIGTERM drains HTTP ingest', () => {
  it('every record answered 202 is committed, and the process exits 0', async () => {
    const port = await freePort();
    const out = mkdtempSync(join(tmpdir(), 'sluice-graceful-'));
    dirs.push(out);
    const job = startSluice(['run', 'test/cli/fixtures/http-ingest.ts', '--no-server', '--no-progress', '--', String(port), out]);
    running.push(job);
    const url = `http://127.0.0.1:${port}/ingest`;
    await until(() => fetch(url, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }).then((r) => (r.status === 202 ? true : undefined), () => undefined), 60_000, () => job.stderr());

    let accepted = 0;
    for (let batch = 0; batch < 10; batch++) {
      const records = Array.from({ length: 100 }, (_, i) => ({ id: batch * 100 + i }));
      const r = await fetch(url, { method: 'POST', body: JSON.stringify(records), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(202);
      accepted += records.length;
    }
    job.child.kill('SIGTERM');
    expect(await job.exited).toBe(0);
    expect(job.stderr()).toMatch(/draining job 'http-ingest'/);

    const committed = committedPartLines(out)
      .map((l) => (JSON.parse(l) as { id: number }).id)
      .sort((a, b) => a - b);
    expect(accepted).toBe(1_000);
    expect(committed).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  }, 120_000);
});

describe('a graceful stop (SIGTERM or sluice stop) of a job with HTTP ingest and a source that cannot stop', () => {
  // With --savepoint-on-stop the savepoint is that last checkpoint. Before: it was taken at
  // once, while ingest still held accepted records, and those were never committed.
  // `sluice stop` asks the running job for the same graceful stop over its REST API.
  it.each([
    ['SIGTERM: a last checkpoint', 'SIGTERM', []],
    ['SIGTERM with --savepoint-on-stop: a savepoint', 'SIGTERM', ['--savepoint-on-stop']],
    ['sluice stop: a last checkpoint', 'sluice stop', []],
  ] as const)('%s; every record answered 202 is committed, the process exits 0, and the next run takes requests again', async (_, how, flags) => {
    const port = await freePort();
    const out = mkdtempSync(join(tmpdir(), 'sluice-graceful-mixed-'));
    dirs.push(out);
    const url = `http://127.0.0.1:${port}/ingest`;
    const post = (body: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const run = () => {
      const server = how === 'sluice stop' ? ['--port', '0'] : ['--no-server'];
      const p = startSluice(['run', 'test/cli/fixtures/http-and-endless.ts', ...server, '--no-progress', ...flags, '--', String(port), out]);
      running.push(p);
      return p;
    };
    const job = run();
    await until(() => post([]).then((r) => (r.status === 202 ? true : undefined), () => undefined), 60_000, () => job.stderr());
    const accepted: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const ids = Array.from({ length: 100 }, (_, i) => batch * 100 + i);
      const r = await post(ids.map((id) => ({ id })));
      expect(r.status).toBe(202);
      accepted.push(...ids);
    }
    // Requests still arriving when the signal comes (it is sent once the first of them is
    // answered): what was answered 202 must be committed.
    const api = how === 'sluice stop' ? await serverUrl(job) : undefined;
    let signalled: Promise<unknown> | undefined;
    const signal = () => {
      signalled ??= api === undefined ? Promise.resolve(job.child.kill('SIGTERM')) : runProgram('node', [bin, 'stop', '--url', api], root).then((r) => expect(r.code, r.stderr).toBe(0));
    };
    const late = Array.from({ length: 40 }, (_, batch) => {
      const ids = Array.from({ length: 2_000 }, (_, i) => 1_000 + batch * 2_000 + i);
      return post(ids.map((id) => ({ id }))).then(
        (r) => {
          if (r.status !== 202) return [];
          signal();
          return ids;
        },
        () => [],
      );
    });
    for (const ids of await Promise.all(late)) accepted.push(...ids);
    signal();
    await signalled;
    expect(await job.exited).toBe(0);
    expect(job.stderr()).toMatch(/job 'http-and-endless' cancelled/);
    if (flags.length > 0) expect(job.stderr()).toMatch(/savepoint \S+ written \(checkpoint \d+\); job 'http-and-endless' stopping/);
    const ids = (committedRecords(join(out, 'http')) as Array<{ id: number }>).map((r) => r.id).sort((a, b) => a - b);
    expect(accepted.length).toBeGreaterThanOrEqual(1_000);
    expect(ids).toEqual(accepted.sort((a, b) => a - b));
    // The generator's output up to that checkpoint is committed too.
    expect(committedRecords(join(out, 'ticks')).length).toBeGreaterThan(0);

    // The stopped source was stopped, not finished: the next run (from that checkpoint) takes requests.
    const again = run();
    await until(() => post([{ id: -1 }]).then((r) => (r.status === 202 ? true : undefined), () => undefined), 60_000, () => again.stderr());
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(again.stderr()).toMatch(/resumed from checkpoint/);
    const after = (committedRecords(join(out, 'http')) as Array<{ id: number }>).map((r) => r.id);
    expect(after).toContain(-1);
  }, 120_000);
});
