import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAvroCompatibility, confluentAvroFormat, SchemaRegistryClient, type CompatibilityLevel } from '../../src/formats/index.js';
import { checkProperty } from '../property.js';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.js';

let server: FakeRegistry;
beforeAll(async () => {
  server = await startFakeRegistry();
});
afterAll(() => server.close());
const subject = () => `evo-${randomUUID().slice(0, 8)}-value`;
const record = (fields: unknown[]) => ({ type: 'record', name: 'Order', fields }) as avro.Schema;

/** A field of the generated schemas: its name, its type in the writer and in the reader, and the reader's default. */
interface FieldPlan {
  name: string;
  kind: 'int' | 'string' | 'boolean';
  /** int only: the reader's type, a promotion of the writer's int. */
  promoted: 'int' | 'long' | 'float' | 'double';
  inWriter: boolean;
  inReader: boolean;
  dflt: number | string | boolean;
}
const fieldPlan = (i: number) =>
  fc.record({
    kind: fc.constantFrom('int' as const, 'string' as const, 'boolean' as const),
    promoted: fc.constantFrom('int' as const, 'long' as const, 'float' as const, 'double' as const),
    inWriter: fc.boolean(),
    inReader: fc.boolean(),
    seed: fc.integer({ min: -1000, max: 1000 }),
  }).map((f): FieldPlan => ({ name: `f${i}`, kind: f.kind, promoted: f.kind === 'int' ? f.promoted : 'int', inWriter: f.inWriter, inReader: f.inReader, dflt: f.kind === 'int' ? f.seed : f.kind === 'string' ? `d${f.seed}` : f.seed > 0 }));
const valueOf = (f: FieldPlan, n: number) => (f.kind === 'int' ? n : f.kind === 'string' ? `s${n}` : n % 2 === 0);

describe('Avro schema evolution: a declared reader schema reads every compatible writer schema', () => {
  it('property: defaults filled, removed fields dropped, int promoted, whatever the writer (older or newer) kept', async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => fieldPlan(i)))),
        fc.array(fc.integer({ min: -100000, max: 100000 }), { minLength: 1, maxLength: 20 }),
        async (plans, seeds) => {
          const writerFields = plans.filter((f) => f.inWriter);
          const readerFields = plans.filter((f) => f.inReader);
          const writerSchema = record(writerFields.map((f) => ({ name: f.name, type: f.kind })));
          const readerSchema = record(readerFields.map((f) => ({ name: f.name, type: f.kind === 'int' ? f.promoted : f.kind, default: f.dflt })));
          const registry = new SchemaRegistryClient({ url: server.url });
          const writer = confluentAvroFormat<Record<string, unknown>>({ registry, subject: subject(), schema: writerSchema });
          await writer.open!();
          const written = seeds.map((n) => Object.fromEntries(writerFields.map((f) => [f.name, valueOf(f, n)])));
          const bytes = written.map((r) => writer.encode(r));

          const reader = confluentAvroFormat<Record<string, unknown>>({ registry: new SchemaRegistryClient({ url: server.url }), readerSchema });
          await reader.prepare!(bytes);
          const read = bytes.map((b) => reader.decode(b));
          // The batch computation: per reader field, the writer's value when it wrote one, else the default.
          const expected = seeds.map((n) => Object.fromEntries(readerFields.map((f) => [f.name, f.inWriter ? valueOf(f, n) : f.dflt])));
          const fround = (v: unknown, f: FieldPlan) => (f.promoted === 'float' && typeof v === 'number' ? Math.fround(v) : v);
          expect(read.map((r) => Object.fromEntries(readerFields.map((f) => [f.name, r[f.name]])))).toEqual(expected.map((r) => Object.fromEntries(readerFields.map((f) => [f.name, fround(r[f.name], f)]))));
        },
      ),
      60,
    );
  });

  it('reads records of an older and a newer writer in one batch, and fetches each writer schema once (one resolver per id)', async () => {
    const v1 = record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]);
    // The reader widens qty to long (a promotion); the newer writer adds a field it does not know.
    const v2 = record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'long' }, { name: 'note', type: 'string', default: '' }]);
    const v3 = record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'note', type: 'string', default: '' }, { name: 'vip', type: 'boolean', default: false }]);
    const s = subject();
    const w1 = confluentAvroFormat<object>({ registry: new SchemaRegistryClient({ url: server.url }), subject: s, schema: v1 });
    const w3 = confluentAvroFormat<object>({ registry: new SchemaRegistryClient({ url: server.url }), subject: s, schema: v3 });
    await w1.open!();
    await w3.open!();
    const batch = Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? w1.encode({ id: `o${i}`, qty: i }) : w3.encode({ id: `o${i}`, qty: i, note: 'n', vip: true })));
    const registry = new SchemaRegistryClient({ url: server.url });
    const reader = confluentAvroFormat<object>({ registry, readerSchema: v2 });
    await reader.prepare!(batch.slice(0, 250));
    await reader.prepare!(batch.slice(250));
    expect(reader.decode(batch[0]!)).toEqual({ id: 'o0', qty: 0, note: '' }); // older writer: default filled
    expect(reader.decode(batch[1]!)).toEqual({ id: 'o1', qty: 1, note: 'n' }); // newer writer: vip dropped
    expect(batch.map((b) => reader.decode(b))).toHaveLength(500);
    expect(registry.requests).toBe(2); // one per writer schema id, whatever the batches
  });

  it('a writer schema the reader cannot resolve makes its messages bad records with the reason', async () => {
    const registry = new SchemaRegistryClient({ url: server.url });
    const w = confluentAvroFormat<object>({ registry, subject: subject(), schema: record([{ name: 'id', type: 'string' }]) });
    await w.open!();
    const reader = confluentAvroFormat<object>({ registry: new SchemaRegistryClient({ url: server.url }), readerSchema: record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]) });
    const bytes = w.encode({ id: 'a' });
    await reader.prepare!([bytes]);
    expect(() => reader.decode(bytes)).toThrow(/schema id \d+ cannot be read as the reader's schema: .*qty/);
  });
});

describe('a writer that the registry refuses', () => {
  it('fails to open with SCHEMA_INCOMPATIBLE and the registry reason', async () => {
    const s = subject();
    const registry = new SchemaRegistryClient({ url: server.url });
    await confluentAvroFormat<object>({ registry, subject: s, schema: record([{ name: 'id', type: 'string' }]) }).open!();
    const next = confluentAvroFormat<object>({ registry, subject: s, schema: record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }]) });
    await expect(next.open!()).rejects.toThrow(/SCHEMA_INCOMPATIBLE.*refused to register the schema under 'evo-.*incompatible with an earlier schema.*BACKWARD.*qty/s);
    // With a default it is a compatible change, and the registry takes it.
    await confluentAvroFormat<object>({ registry, subject: s, schema: record([{ name: 'id', type: 'string' }, { name: 'qty', type: 'int', default: 0 }]) }).open!();
    expect(await registry.versions(s)).toEqual([1, 2]);
  });
});

describe('checkAvroCompatibility at each level', () => {
  const t = (fields: unknown[]) => JSON.stringify(record(fields));
  const a = { name: 'a', type: 'int' };
  const v1 = t([a]);
  const withB = t([a, { name: 'b', type: 'int', default: 0 }]);
  const withBNoDefault = t([a, { name: 'b', type: 'int' }]);
  const bNoDefaultOnly = t([a, { name: 'b', type: 'int' }]);
  const cases: Array<[string, string[], string, CompatibilityLevel, boolean]> = [
    ['adding a field with a default', [v1], withB, 'FULL', true],
    ['adding a field without a default', [v1], withBNoDefault, 'BACKWARD', false],
    ['adding a field without a default', [v1], withBNoDefault, 'FORWARD', true],
    ['removing a field without a default', [bNoDefaultOnly], v1, 'BACKWARD', true],
    ['removing a field without a default', [bNoDefaultOnly], v1, 'FORWARD', false],
    ['removing a field without a default', [bNoDefaultOnly], v1, 'FULL', false],
    ['dropping the default of b after v1 lacked b', [v1, withB], withBNoDefault, 'BACKWARD', true],
    ['dropping the default of b after v1 lacked b', [v1, withB], withBNoDefault, 'BACKWARD_TRANSITIVE', false],
    ['int to long (a promotion)', [v1], t([{ name: 'a', type: 'long' }]), 'BACKWARD', true],
    ['int to long (a promotion)', [v1], t([{ name: 'a', type: 'long' }]), 'FORWARD', false],
    ['anything', [v1], t([{ name: 'z', type: 'string' }]), 'NONE', true],
  ];
  for (const [what, old, next, level, ok] of cases) {
    it(`${what}: ${level} → ${ok ? 'compatible' : 'incompatible'} (and the registry agrees)`, async () => {
      const problems = checkAvroCompatibility(next, old.map((schema, i) => ({ version: i + 1, schema })), level);
      expect(problems.length === 0).toBe(ok);
      const s = subject();
      const registry = new SchemaRegistryClient({ url: server.url });
      server.config.set(s, 'NONE');
      for (const o of old) await registry.register(s, o);
      server.config.set(s, level);
      const registered = registry.register(s, next);
      if (ok) await expect(registered).resolves.toBeGreaterThan(0);
      else await expect(registered).rejects.toThrow(/SCHEMA_INCOMPATIBLE/);
    });
  }
});
