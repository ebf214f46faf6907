/** The shared connector suites run against the file source (JSON lines and CSV) and the transactional file sink. */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSource, transactionalFileSink } from '../../../src/connectors/file/index.js';
import { describeSink, describeSource } from '../../../src/testing/index.js';

interface Rec {
  id: number;
  name: string;
}
const make = (id: number): Rec => ({ id, name: `n${id}` });

/** The lines of a file holding `values` as `line(v)`, with the bad messages placed before theirs. */
function fileOf(name: string, values: Rec[], bad: Map<number, Uint8Array>, line: (v: Rec) => string, header?: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-file-suite-')), name);
  const lines: string[] = header === undefined ? [] : [header];
  values.forEach((v, i) => {
    const b = bad.get(i);
    if (b) lines.push(new TextDecoder().decode(b));
    lines.push(line(v));
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describeSource<Rec>('fileSource (jsonl)', {
  guarantee: 'exactly-once',
  bounded: true,
  make,
  // Chunks of 16 bytes: most lines span two reads.
  prepare: async (values, bad) => {
    const path = fileOf('in.jsonl', values, bad, (v) => JSON.stringify(v));
    return { source: () => fileSource<Rec>(path, { format: 'jsonl', chunkSize: 16 }) };
  },
});

describeSource<Rec>('fileSource (csv)', {
  guarantee: 'exactly-once',
  bounded: true,
  make,
  prepare: async (values, bad) => {
    const path = fileOf('in.csv', values, bad, (v) => `${v.id},${v.name}`, 'id,name');
    return { source: () => fileSource<Rec>(path, { format: 'csv', csv: { cast: true } }) };
  },
});

describeSink<{ i: number }>('transactionalFileSink', {
  kind: 'transactional',
  make: (i) => ({ i }),
  prepare: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-suite-'));
    return {
      sink: transactionalFileSink<{ i: number }>(dir),
      read: async () =>
        readdirSync(dir)
          .filter((n) => n.startsWith('part-'))
          .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean))
          .map((l) => JSON.parse(l) as unknown),
    };
  },
});
