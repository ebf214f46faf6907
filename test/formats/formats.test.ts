import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SchemaRegistryClient,
  avroFormat,
  confluentAvroFormat,
  confluentJsonSchemaFormat,
  confluentProtobufFormat,
  csvFormat,
  jsonFormat,
  jsonSchemaValidator,
  msgpackFormat,
  protobufFormat,
  readConfluentFrame,
  utf8,
  validated,
  writeConfluentFrame,
  type Format,
} from '../../src/formats/index.js';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.js';

interface Order {
  id: string;
  qty: number;
}
const orders: Order[] = [
  { id: 'a', qty: 1 },
  { id: 'b,"quoted"', qty: 250 },
];
const avroSchema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }] } as const;

function roundTrips(name: string, make: () => Format<Order>): void {
  it(`${name} round-trips records and rejects garbage`, () => {
    const f = make();
    for (const o of orders) expect(f.decode(f.encode(o))).toEqual(o);
    expect(() => f.decode(new Uint8Array([0xff, 0xfe, 0x01]))).toThrow();
  });
}

describe('formats', () => {
  roundTrips('json', () => jsonFormat<Order>());
  roundTrips('csv', () => csvFormat<Order & Record<string, unknown>>({ columns: ['id', 'qty'], cast: true }) as Format<Order>);
  roundTrips('avro', () => avroFormat<Order>(avroSchema as never));
  roundTrips('protobuf', () => protobufFormat<Order>({ proto: 'syntax = "proto3"; package shop; message Order { string id = 1; int32 qty = 2; }', type: 'shop.Order' }));
  it('msgpack round-trips records and rejects truncated input', () => {
    const f = msgpackFormat<Order>();
    for (const o of orders) expect(f.decode(f.encode(o))).toEqual(o);
    expect(() => f.decode(f.encode(orders[0]!).subarray(0, 4))).toThrow();
  });

  it('csv checks the number of fields', () => {
    const f = csvFormat<{ a: string; b: string }>({ columns: ['a', 'b'] });
    expect(f.decode(utf8('x,y'))).toEqual({ a: 'x', b: 'y' });
    expect(() => f.decode(utf8('x,y,z'))).toThrow(/expected 2 fields/);
  });

  it('csv reads one line of quoted fields, refuses more than one, and a delimiter CSV cannot use', () => {
    const f = csvFormat<{ a: string; b: string }>({ columns: ['a', 'b'], delimiter: ';' });
    expect(f.decode(utf8('"x;1";"say ""hi"""'))).toEqual({ a: 'x;1', b: 'say "hi"' });
    expect(() => f.decode(utf8('x;y\nz;w'))).toThrow(/expected one CSV line, found 2/);
    expect(() => f.decode(utf8('"x;y'))).toThrow();
    for (const delimiter of ['', '"', '\n']) expect(() => csvFormat({ columns: ['a'], delimiter })).toThrow(/delimiter must be a non-empty string/);
  });

  it('validated checks records against a JSON Schema and types them', () => {
    const schema = { type: 'object', required: ['id', 'qty'], properties: { id: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } };
    const f = validated<Order>(jsonFormat(), schema);
    const ok: Order = f.decode(utf8('{"id":"a","qty":2}'));
    expect(ok.qty).toBe(2);
    expect(() => f.decode(utf8('{"id":"a","qty":0}'))).toThrow(/\/qty must be >= 1/);
    expect(() => f.encode({ id: 'a' } as Order)).toThrow(/must have required property 'qty'/);
    const isOrder = jsonSchemaValidator<Order>(schema);
    expect(isOrder({ id: 'x', qty: 1 })).toBe(true);
  });
});

/** Against a tiny schema registry over real HTTP (`fake-registry.ts`). */
describe('Confluent wire format with a schema registry', () => {
  let registryServer: FakeRegistry;
  let url = '';
  beforeAll(async () => {
    registryServer = await startFakeRegistry();
    url = registryServer.url;
  });
  afterAll(() => registryServer.close());

  it('frames payloads with magic byte 0 and the registered id, and decodes by the id each message names', async () => {
    registryServer.schemas.push('"string"'); // id 1 is taken by another schema
    const writer = confluentAvroFormat<Order>({ registry: new SchemaRegistryClient({ url }), subject: 'orders-value', schema: avroSchema as never });
    await writer.open!();
    expect(writer.schemaId()).toBe(2);
    const bytes = writer.encode(orders[1]!);
    expect(bytes[0]).toBe(0);
    expect(readConfluentFrame(bytes).schemaId).toBe(2);

    const registry = new SchemaRegistryClient({ url });
    const reader = confluentAvroFormat<Order>({ registry });
    const batch = [bytes, writer.encode(orders[0]!), bytes];
    await reader.prepare!(batch);
    await reader.prepare!(batch);
    expect(batch.map((b) => reader.decode(b))).toEqual([orders[1], orders[0], orders[1]]);
    expect(registry.requests).toBe(1); // the id is fetched once, then cached

    const unknown = new Uint8Array([0, 0, 0, 0, 99, 1]);
    await reader.prepare!([unknown]);
    expect(() => reader.decode(unknown)).toThrow(/schema id 99 is not known.*404/);
    expect(() => reader.decode(new Uint8Array([1, 0, 0, 0, 2]))).toThrow(/magic byte 1/);
    expect(registryServer.hits()).toBeGreaterThanOrEqual(3);
  });

  it('confluentProtobufFormat writes the message indexes of its type and the reader finds the type by them', async () => {
    const proto = 'syntax = "proto3"; package shop; message Note { string text = 1; } message Order { string id = 1; int32 qty = 2; message Line { int32 n = 1; } }';
    const writer = confluentProtobufFormat<Order>({ registry: new SchemaRegistryClient({ url }), subject: 'shop-value', schema: proto, type: 'shop.Order' });
    const lines = confluentProtobufFormat<{ n: number }>({ registry: new SchemaRegistryClient({ url }), subject: 'lines-value', schema: proto, type: 'shop.Order.Line' });
    await writer.open!();
    await lines.open!();
    const order = writer.encode(orders[0]!);
    const line = lines.encode({ n: 3 });
    expect([...order.subarray(5, 7)]).toEqual([2, 2]); // one index (zigzag 1), index 1 (zigzag 2): Order is the file's second message
    expect([...line.subarray(5, 8)]).toEqual([4, 2, 0]); // two indexes: Order, then its first nested message
    const reader = confluentProtobufFormat<object>({ registry: new SchemaRegistryClient({ url }) });
    await reader.prepare!([order, line]);
    expect([reader.decode(order), reader.decode(line)]).toEqual([orders[0], { n: 3 }]);
    expect(() => confluentProtobufFormat({ registry: new SchemaRegistryClient({ url }), schema: proto })).toThrow(/needs its message `type`/);
  });

  it('confluentJsonSchemaFormat checks values against the writer schema and the schema each message names', async () => {
    const schema = { type: 'object', required: ['id', 'qty'], properties: { id: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } };
    const writer = confluentJsonSchemaFormat<Order>({ registry: new SchemaRegistryClient({ url }), subject: 'json-value', schema });
    await writer.open!();
    const bytes = writer.encode(orders[1]!);
    expect(JSON.parse(Buffer.from(readConfluentFrame(bytes).payload).toString())).toEqual(orders[1]);
    expect(() => writer.encode({ id: 'x', qty: 0 })).toThrow(/\/qty must be >= 1/);
    const reader = confluentJsonSchemaFormat<Order>({ registry: new SchemaRegistryClient({ url }) });
    const bad = writeConfluentFrame(writer.schemaId()!, utf8('{"id":"x"}'));
    await reader.prepare!([bytes, bad]);
    expect(reader.decode(bytes)).toEqual(orders[1]);
    expect(() => reader.decode(bad)).toThrow(/must have required property 'qty'/);
  });

  it('a registry that never answers fails the request with a clear error within its timeout, never hangs', async () => {
    // A real server that takes the connection and never answers.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const registry = new SchemaRegistryClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      await expect(registry.schemaById(7)).rejects.toThrow(/schema registry http:\/\/127\.0\.0\.1:\d+: GET \/schemas\/ids\/7 failed: no answer within 300 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
