/**
 * The schema part of `npm run bench -- connectors` (`--only avro`): decoding Confluent
 * Avro with a schema registry (the writer's schema fetched by id, with and without a
 * reader schema to resolve into) beside JSON decoding of the same 10-field records, in
 * one thread, in the same run; and the registry requests it took (target: one per
 * schema id per process). The registry is the in-process stand-in of the tests
 * (test/formats/fake-registry.ts), over real HTTP.
 */
import avro from 'avsc';
import { confluentAvroFormat, jsonFormat, SchemaRegistryClient } from '../src/formats/index.js';
import { startFakeRegistry } from '../test/formats/fake-registry.js';

const fields = [
  { name: 'id', type: 'long' },
  { name: 'user', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'qty', type: 'int' },
  { name: 'country', type: 'string' },
  { name: 'paid', type: 'boolean' },
  { name: 'ts', type: 'long' },
  { name: 'item', type: 'string' },
  { name: 'discount', type: 'float' },
  { name: 'channel', type: 'string' },
];
const writerSchema = { type: 'record', name: 'Order', fields };
// The job's reader schema: one field gone, one added with a default, qty promoted to long.
const readerSchema = { type: 'record', name: 'Order', fields: [...fields.filter((f) => f.name !== 'channel').map((f) => (f.name === 'qty' ? { name: 'qty', type: 'long' } : f)), { name: 'note', type: 'string', default: '' }] };
const make = (i: number) => ({ id: i, user: `u${i % 1000}`, amount: (i % 977) / 7, qty: i % 13, country: 'NL', paid: i % 2 === 0, ts: 1_700_000_000_000 + i, item: `sku-${i % 5000}`, discount: 0.5, channel: 'web' });

function rate(n: number, work: () => void): number {
  const t = performance.now();
  work();
  return n / ((performance.now() - t) / 1000);
}

export async function runAvroRegistryBench(n: number): Promise<Record<string, number>> {
  const server = await startFakeRegistry();
  try {
    const writer = confluentAvroFormat<object>({ registry: new SchemaRegistryClient({ url: server.url }), subject: 'orders-value', schema: writerSchema as never });
    await writer.open!();
    const json = jsonFormat<object>();
    const avroBytes = Array.from({ length: n }, (_, i) => writer.encode(make(i)));
    const jsonBytes = Array.from({ length: n }, (_, i) => json.encode(make(i)));
    const plainRegistry = new SchemaRegistryClient({ url: server.url });
    const plain = confluentAvroFormat<object>({ registry: plainRegistry });
    const resolvingRegistry = new SchemaRegistryClient({ url: server.url });
    const resolving = confluentAvroFormat<object>({ registry: resolvingRegistry, readerSchema: readerSchema as never });
    const batch = 1024;
    const decodeAll = (f: typeof plain, bytes: Uint8Array[]) => () => {
      for (const b of bytes) f.decode(b);
    };
    // prepare() per batch, as connectors call it: the schema is fetched on the first only.
    for (let i = 0; i < n; i += batch) {
      await plain.prepare!(avroBytes.slice(i, i + batch));
      await resolving.prepare!(avroBytes.slice(i, i + batch));
    }
    // The floor: avsc alone on the payloads (no frame, no registry, no format).
    const type = avro.Type.forSchema(writerSchema as avro.Schema);
    const payloads = avroBytes.map((b) => Buffer.from(b.buffer, b.byteOffset + 5, b.byteLength - 5));
    const out: Record<string, number> = {};
    console.log(`avro with a schema registry, ${n.toLocaleString('en-US')} records of 10 fields, one thread`);
    for (let round = 1; round <= 3; round++) {
      const j = rate(n, decodeAll(json as never, jsonBytes));
      const a = rate(n, decodeAll(plain, avroBytes));
      const r = rate(n, decodeAll(resolving, avroBytes));
      const raw = rate(n, () => {
        for (const p of payloads) type.fromBuffer(p);
      });
      const f = (x: number) => `${Math.round(x).toLocaleString('en-US').padStart(10)} records/s`;
      console.log(` round ${round}: json ${f(j)}   confluent-avro ${f(a)} (${(a / j).toFixed(1)}× json)   with a reader schema ${f(r)} (${(r / j).toFixed(1)}× json)   avsc alone ${f(raw)}`);
      Object.assign(out, { [`r${round}Json`]: Math.round(j), [`r${round}Avro`]: Math.round(a), [`r${round}AvroResolved`]: Math.round(r), [`r${round}AvscAlone`]: Math.round(raw) });
    }
    console.log(`  registry requests: ${plainRegistry.requests} (writer schema only), ${resolvingRegistry.requests} (with a reader schema), for 1 schema id`);
    return { ...out, requestsPlain: plainRegistry.requests, requestsResolving: resolvingRegistry.requests };
  } finally {
    await server.close();
  }
}
