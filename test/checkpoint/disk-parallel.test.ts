import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { committedLines } from './helpers.js';
import { FileCheckpointStorage } from '../../src/index.js';
import type { KeyedScopeSnapshot } from '../../src/runtime/operators/keyed-scope.js';
import { buildDiskJob, userOf, type DiskJobOptions } from '../fixtures/jobs/disk-state-jobs.js';

/** Every count of an uninterrupted run, as the sink writes them. */
function expected(o: DiskJobOptions): string[] {
  const counts = new Map<number, number>();
  const out: string[] = [];
  for (let i = 0; i < o.events; i++) {
    const u = userOf(i, o.users);
    const n = (counts.get(u) ?? 0) + 1;
    counts.set(u, n);
    out.push(JSON.stringify(`${u},${n}`));
  }
  return out.sort();
}

const start = (o: DiskJobOptions) => buildDiskJob(o).start({ moduleArgs: [JSON.stringify(o)] });

describe.each([
  ['the on-disk backend', 'disk', 'disk-chain'],
  ['the incremental memory backend', 'memory', 'memory-chain'],
] as const)('incremental checkpoints of %s at parallelism 2 (worker threads)', (_name, backend, format) => {
  it('a failure restarts from the latest checkpoint (each subtask’s chain in shared/count#i), every count committed once', async () => {
    const o: DiskJobOptions = { dir: mkdtempSync(join(tmpdir(), 'sluice-disk-p2-')), backend, parallelism: 2, events: 20_000, users: 53, rate: 20_000, crashAt: 10_000 };
    const running = start(o);
    await running.done;
    expect(existsSync(join(o.dir, 'crashed'))).toBe(true);
    expect(running.restarts).toBe(1);
    expect(running.restoredFrom).toBeGreaterThanOrEqual(1);
    expect(committedLines(o.dir)).toEqual(expected(o));
  }, 60_000);

  it('a checkpoint taken at parallelism 2 restores at parallelism 1: each old subtask’s chain, filtered by key group', async () => {
    const o: DiskJobOptions = { dir: mkdtempSync(join(tmpdir(), 'sluice-disk-rescale-')), backend, parallelism: 2, events: 20_000, users: 53, rate: 20_000 };
    const first = start(o);
    const storage = new FileCheckpointStorage(join(o.dir, 'checkpoints'));
    while ((await storage.list()).length === 0 || (await storage.list())[0]!.checkpointId < 3) await new Promise((r) => setTimeout(r, 20));
    first.cancel(); // a cancelled job keeps its checkpoints
    await first.done;
    const latest = (await storage.list())[0]!;
    const parts = (await storage.read(latest)).steps['count']!.parts as KeyedScopeSnapshot[];
    expect(parts.map((p) => p.handle?.format)).toEqual([format, format]);
    expect(readdirSync(join(o.dir, 'checkpoints', 'shared')).sort()).toEqual(['count#0', 'count#1']);

    const again = { ...o, parallelism: 1 };
    const second = start(again);
    await second.done;
    expect(second.restoredFrom).toBe(latest.checkpointId);
    // The part files of both runs hold each count once: the second run went on from the checkpoint's counts.
    expect(committedLines(o.dir)).toEqual(expected(o));
  }, 60_000);
});
