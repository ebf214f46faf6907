import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { boundedSourceSuite } from '../testing/index.js';
import { fromCollection } from './collection/index.js';
import { fileSource } from './file/index.js';
import { generator } from './generator/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-suite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rows = Array.from({ length: 23 }, (_, i) => ({ id: i, name: `n${i}` }));

boundedSourceSuite('fromCollection', { make: () => fromCollection(rows, { timestamps: (r) => r.id }), expected: rows });
boundedSourceSuite('generator', { make: () => generator({ make: (id) => ({ id, name: `n${id}` }), count: 23 }), expected: rows });
boundedSourceSuite('fileSource (jsonl)', {
  make: () => {
    const path = join(dir, 'rows.jsonl');
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
    return fileSource(path, { format: 'jsonl', chunkSize: 16 });
  },
  expected: rows,
});
boundedSourceSuite('fileSource (csv)', {
  make: () => {
    const path = join(dir, 'rows.csv');
    writeFileSync(path, `id,name\n${rows.map((r) => `${r.id},${r.name}`).join('\n')}\n`);
    return fileSource(path, { format: 'csv', csv: { cast: true } });
  },
  expected: rows,
});
