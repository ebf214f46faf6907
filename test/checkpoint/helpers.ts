import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The committed output of a transactional file sink under `dir/out`: every line of every visible part file, sorted. */
export function committedLines(dir: string): string[] {
  const out = join(dir, 'out');
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(out, n), 'utf8').split('\n').filter(Boolean))
    .sort();
}
