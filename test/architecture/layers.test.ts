import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layer map of `src/`, top to bottom: a folder may import only folders on a lower
 * line (never one on its own line, never one above). `src/index.ts` tells the same map
 * in prose. An import that breaks it is either a misplaced piece of code or a missing
 * contract in a lower layer: move the code, or add the contract below.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli', 'testing'],
  ['nexmark'],
  ['launch'],
  ['cluster'],
  ['server'],
  ['api'],
  ['window', 'cep'],
  ['runtime'],
  ['observe'],
  ['plan'],
  ['checkpoint'],
  ['core'],
  ['state', 'connectors'],
  ['formats', 'privacy'],
  ['net'],
  ['resilience'],
  ['time'],
  ['errors'],
];

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function levelOf(folder: string): number {
  return LAYERS.findIndex((line) => line.includes(folder));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Relative imports of a file (static, dynamic and re-exports), with their line numbers. */
export function importsOf(text: string): Array<{ spec: string; line: number }> {
  const found: Array<{ spec: string; line: number }> = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(pattern)) found.push({ spec: m[1]!, line: text.slice(0, m.index).split('\n').length });
  return found;
}

/** Every import in `src/` that points up or sideways in the layer map, as `file:line -> target`. */
export function layerViolations(src: string): string[] {
  const bad: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = relative(src, file).split(sep);
    if (from.length === 1) continue; // src/index.ts, the package root, exports from every layer
    for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
      const target = relative(src, resolve(dirname(file), spec)).split(sep);
      if (target[0] === '..' || target[0] === from[0]) continue;
      const a = levelOf(from[0]!);
      const b = levelOf(target[0]!.replace(/\.(js|ts)$/, ''));
      if (a < 0 || b < 0 || b <= a) bad.push(`${from.join('/')}:${line} -> ${target.join('/')}`);
    }
  }
  return bad.sort();
}

describe('the layer map of src/', () => {
  it('names every folder of src/, once', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect([...LAYERS.flat()].sort()).toEqual(folders);
  });

  it('is told in src/index.ts, folder by folder', () => {
    const index = readFileSync(join(SRC, 'index.ts'), 'utf8');
    // The folders each bullet of the map opens with (` * - \`api/\`: …`).
    const bullets = index.split('\n').filter((line) => line.startsWith(' * - '));
    const told = bullets.flatMap((line) => [...line.matchAll(/`([a-z-]+)\/`/g)].map((m) => m[1]));
    expect(told).toEqual([...new Set(told)]);
    expect([...told].sort()).toEqual([...LAYERS.flat()].sort());
  });

  it('keeps tests out of src/ (vitest runs test/ only: a test left in src/ would never run)', () => {
    const all = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(dir, e.name)) : [join(dir, e.name)]));
    expect(all(SRC).filter((f) => f.endsWith('.test.ts')).map((f) => relative(SRC, f))).toEqual([]);
  });

  it('holds: imports only point down', () => {
    expect(layerViolations(SRC)).toEqual([]);
  });

  it('catches an import that points up or sideways (shown on a scratch tree)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'sluice-layers-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(scratch, path)), { recursive: true });
        writeFileSync(join(scratch, path), text);
      };
      write('launch/job.ts', 'export class Job {}\n');
      write('runtime/task.ts', "import { Job } from '../launch/job.js';\nexport const ok = 1;\n");
      write('state/backend.ts', "export type { Source } from '../connectors/source.js';\n");
      write('connectors/source.ts', "const errors = await import('../errors/index.js');\nexport interface Source {}\n");
      write('errors/index.ts', 'export {};\n');
      expect(layerViolations(scratch)).toEqual(['runtime/task.ts:1 -> launch/job.js', 'state/backend.ts:1 -> connectors/source.js']);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
