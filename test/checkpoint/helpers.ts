import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JobOptions } from '../../src/index.js';

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
