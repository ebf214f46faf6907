import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
