import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFormat } from '../../../src/formats/index.js';
import { describeSink, describeSource, testSinkContext } from '../../../src/testing/index.js';
import { natsSink, natsSource } from '../../../src/connectors/nats/index.js';
import { describeFormats, type Order } from '../format-cases.js';

const run = `sluice_${randomUUID().slice(0, 8)}`;
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
beforeAll(async () => {
  nc = await connect({ servers: '127.0.0.1:4222' });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});
let seq = 0;
/** A fresh stream capturing `<name>.>`; returns its name and subject. */
async function freshStream(): Promise<{ stream: string; subject: string }> {
  const stream = `${run}_${seq++}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  streams.push(stream);
  return { stream, subject: `${stream}.in` };
}
async function readStream(stream: string): Promise<unknown[]> {
  const info = await jsm.streams.info(stream);
  const out: unknown[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  const iter = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 });
  for await (const m of iter) {
    out.push(m.json());
    if (out.length === info.state.messages) break;
  }
  return out;
}

interface Rec {
  i: number;
}
const make = (i: number): Rec => ({ i });

describeSource<Rec>('natsSource', {
  guarantee: 'exactly-once',
  make,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const { stream, subject } = await freshStream();
    const js = jetstream(nc);
    const acks: Promise<unknown>[] = [];
    values.forEach((v, i) => {
      const b = bad.get(i);
      if (b) acks.push(js.publish(subject, b));
      acks.push(js.publish(subject, JSON.stringify(v)));
    });
    await Promise.all(acks);
    return { source: (opts) => natsSource<Rec>({ stream, durable: `d${seq++}`, format: jsonFormat<Rec>(), onBadRecord: opts?.onBadRecord }) };
  },
});

describeSink<Rec>('natsSink', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const { stream, subject } = await freshStream();
    return { sink: natsSink<Rec>({ subject, format: jsonFormat<Rec>() }), read: () => readStream(stream) };
  },
});

describe('natsSink message ids', () => {
  it('a natural msgId deduplicates a record written twice by different writers', async () => {
    const { stream, subject } = await freshStream();
    const sink = natsSink<Rec>({ subject, format: jsonFormat<Rec>(), msgId: (r) => `rec-${r.i}` });
    for (let round = 0; round < 2; round++) {
      const w = sink.createWriter(testSinkContext());
      await w.open!();
      await w.write([make(1), make(2)], [Number.NaN, Number.NaN]);
      await w.flush!();
      await w.close();
    }
    expect(await readStream(stream)).toEqual([make(1), make(2)]);
    expect(sink.stats).toEqual({ published: 4, duplicates: 2 });
  });

  it('default ids: a writer of the same execution, restarted without a checkpoint, writes the same ids (duplicates dropped); another execution does not', async () => {
    const { stream, subject } = await freshStream();
    const sink = natsSink<Rec>({ subject, format: jsonFormat<Rec>() });
    for (const executionId of ['exec-a', 'exec-a', 'exec-b']) {
      const w = sink.createWriter(testSinkContext({ executionId }));
      await w.open!();
      await w.write([make(1), make(2)], [Number.NaN, Number.NaN]);
      await w.flush!();
      await w.close();
    }
    expect(await readStream(stream)).toEqual([make(1), make(2), make(1), make(2)]);
    expect(sink.stats).toEqual({ published: 6, duplicates: 2 });
  });
});

/** Every format through natsSink and natsSource (issue 18): the Confluent one needs open and prepare. */
describeFormats('natsSink and natsSource with every format (real JetStream)', async () => {
  const { stream, subject } = await freshStream();
  return {
    sink: (format) => natsSink<Order>({ subject, format }),
    publish: async (messages) => {
      for (const m of messages) await jetstream(nc).publish(subject, m);
    },
    source: (format) => natsSource<Order>({ stream, durable: `d-${randomUUID().slice(0, 8)}`, format }),
    position: new RegExp(`^${stream}#\\d+$`),
  };
});
