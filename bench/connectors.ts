/**
 * `npm run bench -- connectors [--records N]`: how fast the NATS JetStream and Redis
 * Streams sources feed a job (JSON records into a counting sink), on the real services
 * at 127.0.0.1. The input is published first (not timed); the figure is records per
 * second from the job's start until the sink has counted them all. Then RabbitMQ's
 * sources and sink beside a hand-written amqplib loop (bench/rabbitmq.ts).
 * `--only rabbitmq` runs RabbitMQ alone; `--only avro` the Avro decode with a schema
 * registry beside JSON (bench/avro-registry.ts); `--only kinesis` Kinesis against
 * kinesalite (bench/kinesis.ts).
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { Job } from '../src/launch/job.js';
import { natsSource } from '../src/connectors/nats/index.js';
import { redisStreamSource } from '../src/connectors/redis/index.js';
import { countTo } from './count-sink.js';
import type { Source } from '../src/connectors/source.js';
import { jsonFormat } from '../src/formats/index.js';

interface Rec {
  id: number;
  user: string;
  amount: number;
}
const payload = (i: number): string => JSON.stringify({ id: i, user: `u${i % 1000}`, amount: i % 97 });

/** Runs a job from `source` into a counting sink until `n` records arrived; returns records/s. */
async function rate(source: Source<Rec>, n: number): Promise<number> {
  const { sink, all } = countTo<Rec>(n);
  const job = new Job({ name: 'bench-connectors', batchSize: 1024 });
  job.source(source, { uid: 'in' }).sinkTo(sink);
  const started = performance.now();
  const running = job.start();
  await all;
  const seconds = (performance.now() - started) / 1000;
  running.cancel();
  await running.done;
  return n / seconds;
}

async function natsRate(n: number): Promise<number> {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  const stream = `bench_${randomUUID().slice(0, 8)}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  try {
    const js = jetstream(nc);
    for (let i = 0; i < n; i += 1000) {
      const acks: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) acks.push(js.publish(`${stream}.in`, payload(j)));
      await Promise.all(acks);
    }
    return await rate(natsSource<Rec>({ stream, durable: 'bench', format: jsonFormat<Rec>(), ackOn: 'read' }), n);
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  }
}

async function redisRate(n: number): Promise<number> {
  const redis = new Redis('redis://127.0.0.1:6379');
  const stream = `bench:${randomUUID().slice(0, 8)}`;
  try {
    for (let i = 0; i < n; i += 1000) {
      const pipe = redis.pipeline();
      for (let j = i; j < Math.min(n, i + 1000); j++) pipe.xadd(stream, '*', 'data', payload(j));
      await pipe.exec();
    }
    return await rate(redisStreamSource<Rec>({ stream, group: 'bench', format: jsonFormat<Rec>() }), n);
  } finally {
    await redis.del(stream);
    await redis.quit();
  }
}

export async function runConnectorsBench(args: string[]): Promise<void> {
  const i = args.indexOf('--records');
  const n = i >= 0 ? Number(args[i + 1]) : 200_000;
  const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')} records/s`;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only === undefined || only === 'avro') {
    const { runAvroRegistryBench } = await import('./avro-registry.js');
    const avro = await runAvroRegistryBench(i >= 0 ? n : 1_000_000);
    console.log(JSON.stringify({ bench: 'connectors-avro-registry', ...avro }));
    if (only === 'avro') return;
  }
  if (only === undefined || only === 'kinesis') {
    const { runKinesisBench } = await import('./kinesis.js');
    const kinesis = await runKinesisBench(i >= 0 ? n : 20_000);
    console.log(JSON.stringify({ bench: 'connectors-kinesis', ...kinesis }));
    if (only === 'kinesis') return;
  }
  if (only === undefined || only === 'rabbitmq') {
    const { runRabbitmqBench } = await import('./rabbitmq.js');
    const rabbit = await runRabbitmqBench(i >= 0 ? n : 100_000);
    console.log(JSON.stringify({ bench: 'connectors-rabbitmq', ...rabbit }));
    if (only === 'rabbitmq') return;
  }
  console.log(`connector sources, ${n.toLocaleString('en-US')} JSON records each, into a counting sink`);
  const nats = await natsRate(n);
  console.log(`  nats jetstream source (durable pull consumer): ${fmt(nats)}`);
  const redis = await redisRate(n);
  console.log(`  redis streams source (consumer group):         ${fmt(redis)}`);
  console.log(JSON.stringify({ bench: 'connectors', records: n, natsPerSecond: Math.round(nats), redisPerSecond: Math.round(redis) }));
}
