/**
 * The formats every connector is tested with (`test/connectors/*\/formats.test.ts`): each
 * case makes a writer and a reader of the same records, and bytes the reader must refuse
 * (a dead letter, never a crash). The Confluent case's reader is a separate instance
 * without the writer's schema, so it must fetch the schema by id in `prepare`.
 */
import { randomUUID } from 'node:crypto';
import { SchemaRegistryClient, avroFormat, confluentAvroFormat, csvFormat, jsonFormat, msgpackFormat, protobufFormat, type Format } from '../../src/formats/index.js';

/** The record every format case carries. */
export interface Order {
  id: string;
  qty: number;
}

/** Record `i` of a test run. */
export const order = (i: number): Order => ({ id: `o${i}`, qty: i });

/** One format under test: a writer, a reader, and bytes the reader cannot decode. */
export interface FormatCase {
  readonly name: string;
  /** Whether the format is one text line per record (CSV, JSON): for line-based connectors. */
  readonly lineBased: boolean;
  writer(): Format<Order>;
  reader(): Format<Order>;
  readonly garbage: Uint8Array;
}

const avroSchema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }] };
const proto = { proto: 'syntax = "proto3"; package shop; message Order { string id = 1; int32 qty = 2; }', type: 'shop.Order' };
const notUtf8 = new Uint8Array([0xff, 0xfe, 0x01]);

/**
 * The cases; the Confluent one uses the registry at `registryUrl()` (asked when a writer
 * or reader is made, so a registry started in `beforeAll` serves), each writer under a
 * subject of its own.
 */
export function formatCases(registryUrl: () => string): FormatCase[] {
  const csv = () => csvFormat<Order & Record<string, unknown>>({ columns: ['id', 'qty'], cast: true }) as unknown as Format<Order>;
  return [
    { name: 'json', lineBased: true, writer: () => jsonFormat<Order>(), reader: () => jsonFormat<Order>(), garbage: new TextEncoder().encode('{not json') },
    { name: 'csv', lineBased: true, writer: csv, reader: csv, garbage: new TextEncoder().encode('a,1,extra') },
    { name: 'avro', lineBased: false, writer: () => avroFormat<Order>(avroSchema as never), reader: () => avroFormat<Order>(avroSchema as never), garbage: notUtf8 },
    { name: 'protobuf', lineBased: false, writer: () => protobufFormat<Order>(proto), reader: () => protobufFormat<Order>(proto), garbage: notUtf8 },
    { name: 'msgpack', lineBased: false, writer: () => msgpackFormat<Order>(), reader: () => msgpackFormat<Order>(), garbage: msgpackFormat<Order>().encode(order(1)).subarray(0, 4) },
    {
      name: 'confluent-avro',
      lineBased: false,
      writer: () => confluentAvroFormat<Order>({ registry: new SchemaRegistryClient({ url: registryUrl() }), subject: `orders-${randomUUID()}-value`, schema: avroSchema as never }),
      reader: () => confluentAvroFormat<Order>({ registry: new SchemaRegistryClient({ url: registryUrl() }) }),
      // A frame naming schema id 9999, which the registry does not know.
      garbage: new Uint8Array([0, 0, 0, 0x27, 0x0f, 2, 0x61]),
    },
  ];
}
