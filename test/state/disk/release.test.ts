/**
 * The working files of a failed attempt's disk state go: the next attempt restores from a
 * checkpoint into backends of its own, and a job that restarts often would otherwise fill
 * its disk with dead attempts' LMDB files. Before: every failed attempt's directory stayed.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines } from '../../checkpoint/helpers.js';
import { EVENTS, KEYS, build } from '../../fixtures/jobs/disk-state-job.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const expected = (): string[] => Array.from({ length: EVENTS }, (_, i) => `${i % KEYS}:${Math.floor(i / KEYS) + 1}`).sort();

describe('disk state of a failed attempt', () => {
  it.each([1, 2])('is deleted before the restart, at parallelism %i (worker threads at 2); the output is exact', async (parallelism) => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-release-'));
    dirs.push(root);
    const failAt = EVENTS / 2;
    const job = build(root, parallelism, failAt);
    const running = job.start({ moduleArgs: [root, String(parallelism), String(failAt)] });
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(running.restarts).toBe(1);
    expect(committedLines(root).map((l) => JSON.parse(l) as string)).toEqual(expected());
    // One directory per subtask of the keyed count: the last attempt's. The failed attempt's are gone.
    const left = readdirSync(join(root, 'state'));
    expect(left, left.join(', ')).toHaveLength(parallelism);
    for (const d of left) expect(readdirSync(join(root, 'state', d))).toContain('state.mdb');
  }, 60_000);
});
