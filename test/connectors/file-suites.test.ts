/** The shared connector suites run against the file source and the transactional file sink. */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSource, transactionalFileSink } from '../../src/connectors/file/index.js';
import { describeSink, describeSource } from '../../src/testing/index.js';

interface Rec {
  i: number;
}
const make = (i: number): Rec => ({ i });

describeSource<Rec>('fileSource (jsonl)', {
  guarantee: 'exactly-once',
  make,
  prepare: async (values, bad) => {
    const path = join(mkdtempSync(join(tmpdir(), 'sluice-file-suite-')), 'in.jsonl');
    const lines: string[] = [];
    values.forEach((v, i) => {
      const b = bad.get(i);
      if (b) lines.push(new TextDecoder().decode(b));
      lines.push(JSON.stringify(v));
    });
    writeFileSync(path, `${lines.join('\n')}\n`);
    return { source: () => fileSource<Rec>(path, { format: 'jsonl' }) };
  },
});

describeSink<Rec>('transactionalFileSink', {
  kind: 'transactional',
  make,
  prepare: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-suite-'));
    return {
      sink: transactionalFileSink<Rec>(dir),
      read: async () =>
        readdirSync(dir)
          .filter((n) => n.startsWith('part-'))
          .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean))
          .map((l) => JSON.parse(l) as unknown),
    };
  },
});
