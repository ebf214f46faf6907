import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, SluiceError, describeRecord } from '../../src/errors/index.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Every code written as `new SluiceError('CODE'` (or with a double quote) in src/, with where. */
function codesUsed(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new SluiceError\(\s*['"`]([A-Za-z0-9_]+)['"`]/g)) {
      const where = used.get(m[1]!) ?? [];
      where.push(relative(SRC, file));
      used.set(m[1]!, where);
    }
  }
  return used;
}

describe('ERROR_CATALOG', () => {
  const entries = Object.entries(ERROR_CATALOG);

  it('has codes in UPPER_SNAKE_CASE', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code] of entries) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it.each(entries)('%s has a description, a hint, a domain and retry advice', (_code, info) => {
    expect(info.description.trim().length).toBeGreaterThan(10);
    expect(info.hint.trim().length).toBeGreaterThan(5);
    expect(['user', 'external', 'internal']).toContain(info.domain);
    expect(['none', 'backoff']).toContain(info.retry);
  });

  it('every code thrown under src/ is in the catalog', () => {
    const used = codesUsed();
    // the scan must find something, or it proves nothing
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter(([code]) => !(code in ERROR_CATALOG)).map(([code, files]) => `${code} (${files.join(', ')})`);
    expect(missing).toEqual([]);
  });
});

describe('SluiceError', () => {
  it('takes domain, retry and hint from the catalog, and shows code, detail and hint', () => {
    const e = new SluiceError('SINK_FAILED', "step 'out' could not write", { step: 'out', detail: 'EACCES' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SluiceError');
    expect(e.code).toBe('SINK_FAILED');
    expect(e.domain).toBe('external');
    expect(e.retry).toBe('backoff');
    expect(e.step).toBe('out');
    expect(e.detail).toBe('EACCES');
    expect(e.hint).toBe(ERROR_CATALOG.SINK_FAILED.hint);
    expect(e.message).toBe(`[SINK_FAILED] step 'out' could not write\n  detail: EACCES\n  hint: ${ERROR_CATALOG.SINK_FAILED.hint}`);
  });

  it('a given hint overrides the catalog one; a cause is kept', () => {
    const cause = new Error('root');
    const e = new SluiceError('INVALID_JOB', 'x', { hint: 'do this', cause });
    expect(e.hint).toBe('do this');
    expect(e.message).toContain('hint: do this');
    expect(e.cause).toBe(cause);
  });
});

describe('describeRecord', () => {
  it('renders JSON, bigints, undefined and cyclic objects', () => {
    expect(describeRecord({ a: 1 })).toBe('{"a":1}');
    expect(describeRecord(5n)).toBe('5n');
    expect(describeRecord({ n: 5n })).toBe('{"n":"5n"}');
    expect(describeRecord(undefined)).toBe('undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeRecord(cyclic)).toBe('[object Object]');
  });

  it('cuts long records and says how long they were', () => {
    const text = describeRecord('y'.repeat(300), 50);
    expect(text).toBe(`"${'y'.repeat(49)}… (302 chars)`);
  });
});
