import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { schemaCommand } from '../../src/cli/commands/schema.js';
import { SchemaRegistryClient } from '../../src/formats/index.js';
import { startFakeRegistry, type FakeRegistry } from '../formats/fake-registry.js';

let server: FakeRegistry;
let registry: SchemaRegistryClient;
beforeAll(async () => {
  server = await startFakeRegistry();
  registry = new SchemaRegistryClient({ url: server.url });
});
afterAll(() => server.close());

const src = (path: string) => pathToFileURL(join(process.cwd(), 'src', path)).href;
const dir = mkdtempSync(join(tmpdir(), 'sluice-schema-check-'));
const record = (name: string, fields: unknown[]) => ({ type: 'record', name, fields });

/** A job file whose sink writes `writer` under `<prefix>orders-value` and whose source reads `reader` from `<prefix>payments-value`; the registry URL is its argument. */
function jobFile(prefix: string, writer: unknown, reader: unknown): string {
  const file = join(dir, `${randomUUID()}.ts`);
  writeFileSync(
    file,
    `import { Job } from ${JSON.stringify(src('launch/job.ts'))};
import { generator } from ${JSON.stringify(src('connectors/generator/index.ts'))};
import { natsSink } from ${JSON.stringify(src('connectors/nats/index.ts'))};
import { confluentAvroFormat, SchemaRegistryClient } from ${JSON.stringify(src('formats/index.ts'))};
export default (args: string[]) => {
  const registry = new SchemaRegistryClient({ url: args[0]! });
  const job = new Job({ name: 'schema-check' });
  const out = confluentAvroFormat({ registry, subject: ${JSON.stringify(`${prefix}orders-value`)}, schema: ${JSON.stringify(writer)} });
  confluentAvroFormat({ registry, subject: ${JSON.stringify(`${prefix}payments-value`)}, readerSchema: ${JSON.stringify(reader)} });
  job.source(generator({ make: (i) => ({ id: 'o' + i, qty: i }), count: 1 }), { uid: 'gen' }).sinkTo(natsSink({ subject: 'orders', format: out }), { uid: 'out' });
  return job;
};
`,
  );
  return file;
}

async function check(file: string, json = false): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  try {
    const code = await schemaCommand(['check', file, ...(json ? ['--json'] : []), '--', server.url]);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

const order1 = record('Order', [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]);
const payment1 = record('Payment', [{ name: 'id', type: 'string' }, { name: 'amount', type: 'double' }]);

describe('sluice schema check', () => {
  it('reports a compatible writer and reader, and a subject not registered yet, and exits 0', async () => {
    const p = `a${randomUUID().slice(0, 6)}-`;
    await registry.register(`${p}payments-value`, JSON.stringify(payment1));
    const writer = order1; // the orders subject has no version yet
    const reader = record('Payment', [{ name: 'id', type: 'string' }, { name: 'amount', type: 'double' }, { name: 'currency', type: 'string', default: 'EUR' }]);
    const { code, out } = await check(jobFile(p, writer, reader));
    expect(out).toContain(`✓ ${p}orders-value (writer, confluent-avro, ${server.url}): new subject`);
    expect(out).toContain(`✓ ${p}payments-value (reader, confluent-avro, ${server.url}): compatible with version 1 under BACKWARD`);
    expect(out).toContain('every schema is compatible');
    expect(code).toBe(0);
  });

  it('under FULL_TRANSITIVE, a writer that drops a field without a default is refused against every version, with the reasons', async () => {
    const p = `b${randomUUID().slice(0, 6)}-`;
    const subject = `${p}orders-value`;
    await registry.register(subject, JSON.stringify(order1));
    await registry.register(subject, JSON.stringify(record('Order', [...order1.fields, { name: 'note', type: 'string', default: '' }])));
    server.config.set(subject, 'FULL_TRANSITIVE');
    await registry.register(`${p}payments-value`, JSON.stringify(payment1));
    const { code, out } = await check(jobFile(p, record('Order', [{ name: 'id', type: 'string' }]), payment1));
    expect(out).toContain(`✗ ${subject} (writer, confluent-avro, ${server.url}): INCOMPATIBLE with versions 1, 2 under FULL_TRANSITIVE`);
    expect(out).toMatch(/version 1: readers on version 1 cannot read data written with this schema: .*qty/);
    expect(out).toMatch(/version 2: readers on version 2 cannot read data written with this schema: .*qty/);
    expect(out).toContain(`✓ ${p}payments-value (reader, confluent-avro, ${server.url}): compatible with version 1 under BACKWARD`);
    expect(code).toBe(1);
    // The registry, asked to register it, refuses it too.
    await expect(registry.register(subject, JSON.stringify(record('Order', [{ name: 'id', type: 'string' }])))).rejects.toThrow(/SCHEMA_INCOMPATIBLE/);
  });

  it('a reader that needs a field the latest writer lacks (no default) is incompatible; --json gives the same verdicts', async () => {
    const p = `c${randomUUID().slice(0, 6)}-`;
    await registry.register(`${p}orders-value`, JSON.stringify(order1));
    await registry.register(`${p}payments-value`, JSON.stringify(payment1));
    const reader = record('Payment', [...payment1.fields, { name: 'currency', type: 'string' }]);
    const file = jobFile(p, order1, reader);
    const text = await check(file);
    expect(text.out).toContain(`✓ ${p}orders-value (writer, confluent-avro, ${server.url}): already registered (version 1), under BACKWARD`);
    expect(text.out).toMatch(/✗ .*payments-value \(reader.*INCOMPATIBLE with version 1 under BACKWARD\n\s+version 1: this schema cannot read data written with version 1: .*currency/);
    expect(text.code).toBe(1);
    const json = await check(file, true);
    const parsed = JSON.parse(json.out) as { compatible: boolean; schemas: Array<{ subject: string; outcome: string }> };
    expect(parsed.compatible).toBe(false);
    expect(parsed.schemas.map((s) => [s.subject, s.outcome])).toEqual([
      [`${p}orders-value`, 'registered'],
      [`${p}payments-value`, 'incompatible'],
    ]);
  });

  it('a job file that does not load exits 3; a missing file argument exits 2', async () => {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, 'export default 42;\n');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await schemaCommand(['check', bad])).toBe(3);
      expect(await schemaCommand(['check'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
