import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Job, JobOptions } from '../../src/index.js';

/** Every line of the part files a transactional file sink committed in `partsDir` (its visible files), in file order. */
export function committedPartLines(partsDir: string): string[] {
  if (!existsSync(partsDir)) return [];
  return readdirSync(partsDir)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(partsDir, n), 'utf8').split('\n').filter(Boolean));
}

/** The committed output of a transactional file sink under `dir/out`: every line of every visible part file, sorted. */
export function committedLines(dir: string): string[] {
  return committedPartLines(join(dir, 'out')).sort();
}

/**
 * Options of a job that must recover exactly: checkpoints every 20 ms under `dir`,
 * exactly-once delivery, up to three restarts without delay.
 */
export function recoveringJobOptions(name: string, dir: string): JobOptions {
  return {
    name,
    batchSize: 256,
    checkpoints: { interval: '20ms', dir: join(dir, 'checkpoints') },
    delivery: 'exactly-once',
    restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
  };
}

/** A failure a test job throws once: at the first record at or after position `index` that finds `when()` true. */
export interface InjectedFailure {
  readonly index: number;
  failed: boolean;
  readonly when: () => boolean;
}

/** Throws 'injected failure' at the record at `position` if `failAt` says so (once); call it from a map of the job. */
export function injectFailure(failAt: InjectedFailure | undefined, position: number): void {
  if (failAt && !failAt.failed && position >= failAt.index && failAt.when()) {
    failAt.failed = true;
    throw new Error('injected failure');
  }
}

/**
 * Runs the job `build` makes in a fresh directory, failing once at the record at `index`
 * after a checkpoint has completed (`build` passes `failAt` to {@link injectFailure}), and
 * expects one restart and exactly the `expected` committed lines (an uninterrupted run's).
 */
export async function expectExactRecovery(
  prefix: string,
  index: number,
  build: (dir: string, failAt: InjectedFailure) => Job,
  expected: readonly string[],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-fail-`));
  let completedBefore = 0;
  let restarts = 0;
  const failAt: InjectedFailure = { index, failed: false, when: () => (completedBefore = completed()) > 0 };
  const running = build(dir, failAt).start({ onRestart: () => restarts++ });
  const completed = (): number => running.checkpoints.filter((c) => c.status === 'completed').length;
  await running.done;
  expect(failAt.failed).toBe(true);
  expect(restarts).toBe(1);
  expect(completedBefore).toBeGreaterThan(0);
  expect(committedLines(dir)).toEqual(expected);
}
