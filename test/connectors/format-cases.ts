/**
 * The formats every connector is tested with ({@link describeFormats}, run by each
 * connector's tests): each case makes a writer and a reader of the same records, and
 * bytes the reader must refuse (a dead letter, never a crash). The Confluent case's reader is a separate instance
 * without the writer's schema, so it must fetch the schema by id in `prepare`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeRegistry, type FakeRegistry } from '../formats/fake-registry.js';
import { Job, generator, type Sink, type Source } from '../../src/index.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import type { DeadLetter } from '../../src/runtime/dead-letter-queue.js';
import { SchemaRegistryClient, avroFormat, confluentAvroFormat, confluentJsonSchemaFormat, confluentProtobufFormat, csvFormat, jsonFormat, msgpackFormat, protobufFormat, type Format } from '../../src/formats/index.js';

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
  writer(): Format<Order>;
  reader(): Format<Order>;
  readonly garbage: Uint8Array;
}

const avroSchema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }] };
const proto = { proto: 'syntax = "proto3"; package shop; message Order { string id = 1; int32 qty = 2; }', type: 'shop.Order' };
const notUtf8 = new Uint8Array([0xff, 0xfe, 0x01]);
const orderJsonSchema = { type: 'object', required: ['id', 'qty'], properties: { id: { type: 'string' }, qty: { type: 'integer' } } };
/** A Confluent frame naming schema id 9999, which the registry does not know. */
const unknownId = new Uint8Array([0, 0, 0, 0x27, 0x0f, 2, 0x61]);

/**
 * The cases; the Confluent ones use the registry at `registryUrl()` (asked when a writer
 * or reader is made, so a registry started in `beforeAll` serves), each writer under a
 * subject of its own.
 */
export function formatCases(registryUrl: () => string): FormatCase[] {
  const registry = () => new SchemaRegistryClient({ url: registryUrl() });
  const subject = () => `orders-${randomUUID()}-value`;
  const csv = () => csvFormat<Order & Record<string, unknown>>({ columns: ['id', 'qty'], cast: true }) as unknown as Format<Order>;
  return [
    { name: 'json', writer: () => jsonFormat<Order>(), reader: () => jsonFormat<Order>(), garbage: new TextEncoder().encode('{not json') },
    { name: 'csv', writer: csv, reader: csv, garbage: new TextEncoder().encode('a,1,extra') },
    { name: 'avro', writer: () => avroFormat<Order>(avroSchema as never), reader: () => avroFormat<Order>(avroSchema as never), garbage: notUtf8 },
    { name: 'protobuf', writer: () => protobufFormat<Order>(proto), reader: () => protobufFormat<Order>(proto), garbage: notUtf8 },
    { name: 'msgpack', writer: () => msgpackFormat<Order>(), reader: () => msgpackFormat<Order>(), garbage: msgpackFormat<Order>().encode(order(1)).subarray(0, 4) },
    {
      name: 'confluent-avro',
      writer: () => confluentAvroFormat<Order>({ registry: registry(), subject: subject(), schema: avroSchema as never }),
      reader: () => confluentAvroFormat<Order>({ registry: registry() }),
      garbage: unknownId,
    },
    {
      name: 'confluent-protobuf',
      writer: () => confluentProtobufFormat<Order>({ registry: registry(), subject: subject(), schema: proto.proto, type: proto.type }),
      reader: () => confluentProtobufFormat<Order>({ registry: registry() }),
      garbage: unknownId,
    },
    {
      name: 'confluent-json-schema',
      writer: () => confluentJsonSchemaFormat<Order>({ registry: registry(), subject: subject(), schema: orderJsonSchema }),
      reader: () => confluentJsonSchemaFormat<Order>({ registry: registry() }),
      garbage: unknownId,
    },
  ];
}

/** `format` with counters of the calls of its open and close hooks (which it has whether or not `format` does). */
function tracked(format: Format<Order>): Format<Order> & { calls: { open: number; close: number } } {
  const calls = { open: 0, close: 0 };
  return {
    ...format,
    name: format.name,
    encode: (v) => format.encode(v),
    decode: (b) => format.decode(b),
    calls,
    async open() {
      calls.open++;
      await format.open?.();
    },
    async close() {
      calls.close++;
      await format.close?.();
    },
  };
}

/** How {@link roundTrip} drives one connector with one format case. */
export interface RoundTripTarget {
  /** The sink under test, writing with `format`; without one, records are published raw (encoded by the writer, once opened). */
  sink?: (format: Format<Order>) => Sink<Order>;
  /** Publishes raw messages where the source reads (the bad message, and the records when there is no sink). */
  publish(messages: Uint8Array[]): Promise<void>;
  /** The source under test, reading with `format`. */
  source(format: Format<Order>): Source<Order>;
  /** What a dead letter's position looks like. */
  position: RegExp;
}

/**
 * Writes `n` records in format `c` (through the sink, or published raw), adds `c.garbage`,
 * reads them back through the source in a job, and checks that every record came back
 * and the bad message became one BAD_RECORD dead letter of the source's step.
 */
export async function roundTrip(c: FormatCase, target: RoundTripTarget, n = 50): Promise<void> {
  if (target.sink) {
    const writer = new Job({ name: `${c.name}-out` });
    const format = tracked(c.writer());
    writer.source(generator({ make: order, count: n }), { uid: 'orders' }).sinkTo(target.sink(format), { uid: 'out' });
    await writer.run();
    expect(format.calls).toEqual({ open: 1, close: 1 });
  } else {
    const f = c.writer();
    await f.open?.();
    await target.publish(Array.from({ length: n }, (_, i) => f.encode(order(i))));
  }
  await target.publish([c.garbage]);

  const reader = new Job({ name: `${c.name}-in`, onError: 'dead-letter' });
  const out = collectSink<Order>();
  const dead = collectSink<DeadLetter>();
  const format = tracked(c.reader());
  reader.source(target.source(format), { uid: 'in' }).sinkTo(out);
  reader.deadLetters().sinkTo(dead);
  const running = reader.start();
  const deadline = Date.now() + 20_000;
  while (out.count < n || dead.count < 1) {
    if (Date.now() > deadline) throw new Error(`${c.name}: ${out.count} of ${n} records and ${dead.count} of 1 dead letter after 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  running.cancel();
  await running.done.catch(() => {}); // a bounded source may have finished already
  expect(format.calls).toEqual({ open: 1, close: 1 }); // the lifecycle ran whole, once (one reader)

  expect(out.values.map((o) => o.qty).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(out.values.find((o) => o.qty === 7)).toEqual(order(7));
  expect(dead.values.map((d) => [d.step, d.error.code])).toEqual([['in', 'BAD_RECORD']]);
  expect(dead.values[0]!.position).toMatch(target.position);
  if (c.name.startsWith('confluent')) expect(dead.values[0]!.error.message).toMatch(/schema id 9999 is not known.*404/);
}

/**
 * The shared format suite of one connector: a fake schema registry for the Confluent
 * case, then {@link roundTrip} for each format case that `only` keeps (all by default),
 * against the target `target(c)` makes (a fresh topic, stream or queue per case).
 */
export function describeFormats(title: string, target: (c: FormatCase) => Promise<RoundTripTarget>, only: (c: FormatCase) => boolean = () => true): void {
  describe(title, () => {
    let registry: FakeRegistry;
    beforeAll(async () => {
      registry = await startFakeRegistry();
    });
    afterAll(() => registry.close());
    for (const c of formatCases(() => registry.url).filter(only)) {
      it(`${c.name}: every record comes back, bad bytes become one dead letter`, async () => roundTrip(c, await target(c)), 60_000);
    }
  });
}
