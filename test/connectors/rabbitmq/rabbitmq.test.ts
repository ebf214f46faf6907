import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFormat } from '../../../src/formats/index.js';
import { describeSink, describeSource, testSinkContext, testSourceContext } from '../../../src/testing/index.js';
import { rabbitmqSink, rabbitmqSource, rabbitmqStreamSource } from '../../../src/connectors/rabbitmq/index.js';
import { describeFormats, type Order } from '../format-cases.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const run = `sluice_${randomUUID().slice(0, 8)}`;
let model: ChannelModel;
let ch: Channel;
const queues: string[] = [];
beforeAll(async () => {
  model = await connect(URL);
  ch = await model.createConfirmChannel();
});
afterAll(async () => {
  for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  await model.close();
});
let seq = 0;
/** A fresh queue, or a fresh stream (`x-queue-type: stream`). */
async function fresh(kind: 'classic' | 'stream' = 'classic'): Promise<string> {
  const q = `${run}_${kind}_${seq++}`;
  await ch.assertQueue(q, { durable: true, arguments: kind === 'stream' ? { 'x-queue-type': 'stream' } : {} });
  queues.push(q);
  return q;
}
/** Publishes raw bodies to `queue` (with message ids when given) and waits for the broker's confirms. */
async function publish(queue: string, bodies: Array<Uint8Array | string>, ids?: string[]): Promise<void> {
  bodies.forEach((b, i) => ch.sendToQueue(queue, Buffer.from(b), { persistent: true, ...(ids ? { messageId: ids[i]! } : {}) }));
  await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
}
/** What a classic queue holds (bodies as JSON, with message ids), read without removing anything. */
async function peek(queue: string): Promise<Array<{ value: unknown; id: string | undefined }>> {
  const c = await model.createChannel();
  const out: Array<{ value: unknown; id: string | undefined }> = [];
  for (;;) {
    const m = await c.get(queue, { noAck: false });
    if (m === false) break;
    out.push({ value: JSON.parse(m.content.toString()), id: m.properties.messageId as string | undefined });
  }
  await c.close(); // everything un-acknowledged goes back to the queue
  return out;
}
/** Messages a queue holds now (ready, not counting those delivered and un-acknowledged). */
async function ready(queue: string): Promise<number> {
  return (await ch.checkQueue(queue)).messageCount;
}

interface Rec {
  i: number;
}
const make = (i: number): Rec => ({ i });
/** Fills `queue` with the suite's input: a bad message before values[i] where `bad` says so. */
async function fill(queue: string, values: Rec[], bad: Map<number, Uint8Array>): Promise<void> {
  const bodies: Array<Uint8Array | string> = [];
  const ids: string[] = [];
  values.forEach((v, i) => {
    const b = bad.get(i);
    if (b) {
      bodies.push(b);
      ids.push(`bad-${i}`);
    }
    bodies.push(JSON.stringify(v));
    ids.push(`m-${i}`);
  });
  await publish(queue, bodies, ids);
}

describeSource<Rec>('rabbitmqSource (queue, dedupe by message id)', {
  guarantee: 'exactly-once',
  make,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const queue = await fresh();
    await fill(queue, values, bad);
    return { source: (opts) => rabbitmqSource<Rec>({ queue, format: jsonFormat<Rec>(), dedupe: true, onBadRecord: opts?.onBadRecord }) };
  },
});

describeSource<Rec>('rabbitmqSource (queue, no dedupe)', {
  guarantee: 'at-least-once',
  make,
  count: 500,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const queue = await fresh();
    await fill(queue, values, bad);
    return { source: (opts) => rabbitmqSource<Rec>({ queue, format: jsonFormat<Rec>(), onBadRecord: opts?.onBadRecord }) };
  },
});

describeSource<Rec>('rabbitmqStreamSource', {
  guarantee: 'exactly-once',
  make,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const stream = await fresh('stream');
    await fill(stream, values, bad);
    return { source: (opts) => rabbitmqStreamSource<Rec>({ stream, format: jsonFormat<Rec>(), onBadRecord: opts?.onBadRecord }) };
  },
});

describeSink<Rec>('rabbitmqSink', {
  kind: 'at-least-once',
  make,
  prepare: async () => {
    const queue = await fresh();
    return { sink: rabbitmqSink<Rec>({ routingKey: queue, format: jsonFormat<Rec>() }), read: async () => (await peek(queue)).map((m) => m.value) };
  },
});

describe('rabbitmqSource acknowledgements', () => {
  it('acknowledges a message only when the checkpoint covering it completes; a restore drops the redeliveries it already holds', async () => {
    const queue = await fresh();
    const values = Array.from({ length: 30 }, (_, i) => make(i));
    await fill(queue, values, new Map());
    const source = rabbitmqSource<Rec>({ queue, format: jsonFormat<Rec>(), dedupe: true });
    // One record per poll: what a checkpoint covers is exactly what was taken before it, however the broker's deliveries arrive.
    const first = source.createReader(testSourceContext({ maxBatchSize: 1 }));
    await first.open!();
    const take = async (n: number) => {
      const got: Rec[] = [];
      for (let polls = 0; got.length < n && polls < 1000; polls++) got.push(...(await first.poll()).values);
      return got;
    };
    const a = await take(10);
    const p1 = first.snapshotPosition!(1);
    const b = await take(10);
    const p2 = structuredClone(first.snapshotPosition!(2));
    expect([...a, ...b]).toEqual(values.slice(0, 20));
    await first.notifyCheckpointComplete!(1); // only the first 10 are acknowledged
    expect(p1).toEqual({ ids: values.slice(0, 10).map((_, i) => `m-${i}`) });
    await first.close(); // a crash before checkpoint 2's acknowledgement: 20 come back
    expect(await ready(queue)).toBe(20);

    const second = source.createReader({ ...testSourceContext({ maxBatchSize: 100 }), restoredPosition: p2 });
    await second.open!();
    const got: Rec[] = [];
    for (let polls = 0; got.length < 10 && polls < 100; polls++) got.push(...(await second.poll()).values);
    expect(got).toEqual(values.slice(20)); // 10..19 are in checkpoint 2: dropped as duplicates
    expect(source.stats.duplicates).toBe(10);
    second.snapshotPosition!(3);
    await second.notifyCheckpointComplete!(3);
    await second.close();
    expect(await ready(queue)).toBe(0);
  });

  it("prefetch bounds the messages the broker hands out before the checkpoint acknowledges them", async () => {
    const queue = await fresh();
    await fill(queue, Array.from({ length: 100 }, (_, i) => make(i)), new Map());
    const reader = rabbitmqSource<Rec>({ queue, format: jsonFormat<Rec>(), prefetch: 25 }).createReader(testSourceContext({ maxBatchSize: 1000, maxPollWaitMs: 50 }));
    await reader.open!();
    let got = 0;
    for (let polls = 0; polls < 10; polls++) got += (await reader.poll()).values.length;
    expect(got).toBe(25); // then the broker waits for acknowledgements
    reader.snapshotPosition!(1);
    await reader.notifyCheckpointComplete!(1);
    for (let polls = 0; polls < 10 && got < 50; polls++) got += (await reader.poll()).values.length;
    expect(got).toBe(50);
    await reader.close();
  });

  it('a queue that does not exist fails the reader with SOURCE_FAILED naming it', async () => {
    const reader = rabbitmqSource<Rec>({ queue: `${run}_missing`, format: jsonFormat<Rec>() }).createReader(testSourceContext());
    await expect(reader.open!()).rejects.toThrow(/SOURCE_FAILED|rabbitmq source.*_missing.*NOT_FOUND/s);
    await reader.close();
  });
});

describe('rabbitmqSink', () => {
  it('publishes with default message ids <uid>:<run>:<n> that a restart from a checkpoint gives again', async () => {
    const queue = await fresh();
    const sink = rabbitmqSink<Rec>({ routingKey: queue, format: jsonFormat<Rec>() });
    const w1 = sink.createWriter(testSinkContext({ uid: 'out', executionId: 'exec-a' }));
    await w1.open!();
    await w1.write([make(0), make(1)], [Number.NaN, Number.NaN]);
    const tx = await w1.preCommit!(1);
    await w1.write([make(2)], [Number.NaN]);
    await w1.flush!(); // confirmed by the broker, then a crash before the next checkpoint
    await w1.close();
    const w2 = sink.createWriter(testSinkContext({ uid: 'out', executionId: 'exec-a' }));
    await w2.open!();
    await w2.recover!([tx]);
    await w2.write([make(2)], [Number.NaN]); // the replay after checkpoint 1
    await w2.flush!();
    await w2.close();
    const shown = await peek(queue);
    expect(shown).toEqual([
      { value: make(0), id: 'out:exec-a:0' },
      { value: make(1), id: 'out:exec-a:1' },
      { value: make(2), id: 'out:exec-a:2' },
      { value: make(2), id: 'out:exec-a:2' },
    ]);
    expect(sink.stats.published).toBe(4);
  });

  it('a message no queue takes fails the sink with SINK_FAILED instead of vanishing', async () => {
    const sink = rabbitmqSink<Rec>({ routingKey: `${run}_nowhere`, format: jsonFormat<Rec>() });
    const w = sink.createWriter(testSinkContext());
    await w.open!();
    await w.write([make(1)], [Number.NaN]);
    await expect(w.flush!()).rejects.toThrow(/SINK_FAILED|returned unroutable.*_nowhere/s);
    await w.close();
  });
});

/** Every format through rabbitmqSink and rabbitmqSource, and through rabbitmqStreamSource. */
describeFormats('rabbitmqSink and rabbitmqSource with every format (real RabbitMQ)', async () => {
  const queue = await fresh();
  return {
    sink: (format) => rabbitmqSink<Order>({ routingKey: queue, format }),
    publish: (messages) => publish(queue, messages),
    source: (format) => rabbitmqSource<Order>({ queue, format }),
    position: new RegExp(`^${queue}#delivery-\\d+$`),
  };
});
describeFormats('rabbitmqStreamSource with every format (real RabbitMQ stream)', async () => {
  const stream = await fresh('stream');
  return {
    sink: (format) => rabbitmqSink<Order>({ routingKey: stream, format }),
    publish: (messages) => publish(stream, messages),
    source: (format) => rabbitmqStreamSource<Order>({ stream, format }),
    position: new RegExp(`^${stream}@\\d+$`),
  };
});
