/**
 * The RabbitMQ part of `npm run bench -- connectors`: the queue source, the stream source
 * and the sink on the real broker at 127.0.0.1:5672, each beside a hand-written amqplib
 * loop doing the same work in the same run (consume, JSON.parse, ack per batch; publish
 * with confirms every 2048). Prints records/s, CPU µs per record (this process: client
 * and engine together) and the ratio Sluice/loop (target ≥ 50%).
 */
import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { generator } from '../src/connectors/generator/index.js';
import { rabbitmqSink, rabbitmqSource, rabbitmqStreamSource } from '../src/connectors/rabbitmq/index.js';
import type { Source } from '../src/connectors/source.js';
import { jsonFormat } from '../src/formats/index.js';
import { Job } from '../src/launch/job.js';
import { countTo } from './count-sink.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
interface Rec {
  id: number;
  user: string;
  amount: number;
}
const payload = (i: number): Buffer => Buffer.from(JSON.stringify({ id: i, user: `u${i % 1000}`, amount: i % 97 }));

/** Records/s and CPU µs per record of `work` (which handles `n` records). */
async function measure(n: number, work: () => Promise<void>): Promise<{ perSecond: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSecond: n / seconds, cpuUs: (used.user + used.system) / n };
}

async function fill(ch: Channel, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (!ch.sendToQueue(queue, payload(i), { messageId: `m-${i}` })) await new Promise((r) => ch.once('drain', r));
    if (i % 5000 === 4999) await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
  }
  await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
}

/** A job from `source` into a counting sink until `n` records arrived. */
async function jobFrom(source: Source<Rec>, n: number, checkpointMs?: number): Promise<void> {
  const { sink, all } = countTo<Rec>(n);
  const job = new Job({ name: 'bench-rabbitmq', batchSize: 1024, ...(checkpointMs ? { checkpoints: { interval: `${checkpointMs}ms` } } : {}) });
  job.source(source, { uid: 'in' }).sinkTo(sink);
  const running = job.start();
  await all;
  running.cancel();
  await running.done.catch(() => {});
}

/** The hand-written consumer: prefetch, JSON.parse each body, one multiple ack per 1024. */
async function loopConsume(model: ChannelModel, queue: string, n: number, args?: Record<string, unknown>): Promise<void> {
  const ch = await model.createChannel();
  await ch.prefetch(5000);
  let seen = 0;
  let sum = 0;
  await new Promise<void>((resolve) => {
    void ch.consume(
      queue,
      (m: ConsumeMessage | null) => {
        if (!m) return;
        sum += (JSON.parse(m.content.toString()) as Rec).amount;
        if (++seen % 1024 === 0 || seen === n) ch.ack(m, true);
        if (seen === n) resolve();
      },
      { noAck: false, ...(args ? { arguments: args } : {}) },
    );
  });
  if (sum < 0) console.log(sum);
  await ch.close();
}

/** The hand-written publisher: JSON.stringify, publish with a message id, wait for confirms every 2048. */
async function loopPublish(model: ChannelModel, queue: string, n: number): Promise<void> {
  const ch = await model.createConfirmChannel();
  for (let i = 0; i < n; i++) {
    const rec: Rec = { id: i, user: `u${i % 1000}`, amount: i % 97 };
    if (!ch.publish('', queue, Buffer.from(JSON.stringify(rec)), { messageId: `loop:${i}`, persistent: true, mandatory: true })) await new Promise((r) => ch.once('drain', r));
    if (i % 2048 === 2047) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await ch.close();
}

export async function runRabbitmqBench(n: number): Promise<Record<string, number>> {
  const model = await connect(URL);
  const admin = await model.createConfirmChannel();
  const made: string[] = [];
  const fresh = async (stream = false): Promise<string> => {
    const q = `bench_${randomUUID().slice(0, 8)}`;
    await admin.assertQueue(q, { durable: true, arguments: stream ? { 'x-queue-type': 'stream' } : {} });
    made.push(q);
    return q;
  };
  const fmt = (label: string, r: { perSecond: number; cpuUs: number }, base?: { perSecond: number }) =>
    console.log(`  ${label.padEnd(52)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(9)} records/s  ${r.cpuUs.toFixed(1).padStart(5)} µs CPU/record${base ? `  ${Math.round((100 * r.perSecond) / base.perSecond)}% of the loop` : ''}`);
  const out: Record<string, number> = {};
  try {
    console.log(`rabbitmq (amqplib), ${n.toLocaleString('en-US')} JSON records each, Sluice beside a hand-written amqplib loop`);
    // Two rounds, alternating, so neither side always runs on the colder machine.
    for (let round = 1; round <= 2; round++) {
      let q = await fresh();
      await fill(admin, q, n);
      const loopQ = await measure(n, () => loopConsume(model, q, n));
      q = await fresh();
      await fill(admin, q, n);
      const srcRead = await measure(n, () => jobFrom(rabbitmqSource<Rec>({ queue: q, format: jsonFormat<Rec>(), ackOn: 'read' }), n));
      q = await fresh();
      await fill(admin, q, n);
      const srcCp = await measure(n, () => jobFrom(rabbitmqSource<Rec>({ queue: q, format: jsonFormat<Rec>(), prefetch: 20000, dedupe: true }), n, 200));
      const s = await fresh(true);
      await fill(admin, s, n);
      const loopS = await measure(n, () => loopConsume(model, s, n, { 'x-stream-offset': 'first' }));
      const srcS = await measure(n, () => jobFrom(rabbitmqStreamSource<Rec>({ stream: s, format: jsonFormat<Rec>() }), n));
      q = await fresh();
      const loopP = await measure(n, () => loopPublish(model, q, n));
      q = await fresh();
      const sinkP = await measure(n, async () => {
        const job = new Job({ name: 'bench-rabbitmq-sink', batchSize: 1024 });
        job.source(generator<Rec>({ make: (i) => ({ id: i, user: `u${i % 1000}`, amount: i % 97 }), count: n }), { uid: 'gen' }).sinkTo(rabbitmqSink<Rec>({ routingKey: q, format: jsonFormat<Rec>() }), { uid: 'out' });
        await job.run();
      });
      console.log(` round ${round}`);
      fmt('loop: consume a queue, parse, ack per 1024', loopQ);
      fmt("rabbitmqSource, ackOn: 'read'", srcRead, loopQ);
      fmt('rabbitmqSource, acks at checkpoints (200 ms), dedupe', srcCp, loopQ);
      fmt('loop: consume a stream from first, parse, ack', loopS);
      fmt('rabbitmqStreamSource', srcS, loopS);
      fmt('loop: publish with confirms every 2048', loopP);
      fmt('rabbitmqSink (job from a generator)', sinkP, loopP);
      Object.assign(out, {
        [`r${round}LoopQueue`]: Math.round(loopQ.perSecond),
        [`r${round}QueueSource`]: Math.round(srcRead.perSecond),
        [`r${round}QueueSourceCheckpointed`]: Math.round(srcCp.perSecond),
        [`r${round}LoopStream`]: Math.round(loopS.perSecond),
        [`r${round}StreamSource`]: Math.round(srcS.perSecond),
        [`r${round}LoopPublish`]: Math.round(loopP.perSecond),
        [`r${round}Sink`]: Math.round(sinkP.perSecond),
      });
      for (const m of made.splice(0)) await admin.deleteQueue(m).catch(() => {});
    }
  } finally {
    for (const m of made) await admin.deleteQueue(m).catch(() => {});
    await model.close();
  }
  return out;
}
