/**
 * The Kinesis part of `npm run bench -- connectors` (`--only kinesis`): kinesisSource and
 * kinesisSink beside a hand-written AWS SDK loop (GetRecords of 10,000 with JSON.parse;
 * PutRecords of 500), against kinesalite in this process (it shares the CPU, so the
 * figures say more about the client side's overhead than about Kinesis).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generator } from '../src/connectors/generator/index.js';
import { kinesisSink, kinesisSource } from '../src/connectors/kinesis/index.js';
import { jsonFormat } from '../src/formats/index.js';
import { Job } from '../src/launch/job.js';
import { countTo } from './count-sink.js';

interface Rec {
  id: number;
  user: string;
  amount: number;
}
const make = (i: number): Rec => ({ id: i, user: `u${i % 1000}`, amount: i % 97 });

async function timed(n: number, work: () => Promise<void>): Promise<{ perSecond: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { perSecond: n / ((performance.now() - t) / 1000), cpuUs: (used.user + used.system) / n };
}

export async function runKinesisBench(n: number): Promise<Record<string, number>> {
  const kinesalite = createRequire(import.meta.url)('kinesalite') as (o: Record<string, unknown>) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientConfig = { credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestHandler: new NodeHttpHandler() };
  const client = new KinesisClient({ endpoint, region: 'us-east-1', ...clientConfig });
  const conn = { endpoint, region: 'us-east-1', clientConfig };
  const fresh = async () => {
    const s = `bench-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateStreamCommand({ StreamName: s, ShardCount: 1 }));
    while ((await client.send(new DescribeStreamSummaryCommand({ StreamName: s }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
    return s;
  };
  const loopPut = async (s: string) => {
    for (let i = 0; i < n; i += 500) {
      await client.send(new PutRecordsCommand({ StreamName: s, Records: Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ Data: Buffer.from(JSON.stringify(make(i + j))), PartitionKey: `k${(i + j) % 16}` })) }));
    }
  };
  const fmt = (label: string, r: { perSecond: number; cpuUs: number }, base?: { perSecond: number }) =>
    console.log(`  ${label.padEnd(40)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(9)} records/s  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU/record${base ? `  ${Math.round((100 * r.perSecond) / base.perSecond)}% of the loop` : ''}`);
  const out: Record<string, number> = {};
  try {
    console.log(`kinesis (AWS SDK v3 against kinesalite in this process), ${n.toLocaleString('en-US')} JSON records, one shard`);
    for (let round = 1; round <= 2; round++) {
      const s1 = await fresh();
      const put = await timed(n, () => loopPut(s1));
      const s2 = await fresh();
      const sink = await timed(n, async () => {
        const job = new Job({ name: 'bench-kinesis-sink', batchSize: 1024 });
        job.source(generator<Rec>({ make, count: n }), { uid: 'gen' }).sinkTo(kinesisSink<Rec>({ ...conn, stream: s2, partitionKey: (r) => `k${r.id % 16}`, format: jsonFormat<Rec>() }), { uid: 'out' });
        await job.run();
      });
      const get = await timed(n, async () => {
        let it = (await client.send(new GetShardIteratorCommand({ StreamName: s1, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        let seen = 0;
        while (seen < n && it) {
          const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
          for (const rec of r.Records ?? []) if ((JSON.parse(Buffer.from(rec.Data!).toString()) as Rec).amount >= 0) seen++;
          it = r.NextShardIterator;
        }
      });
      const source = await timed(n, async () => {
        const { sink: count, all } = countTo<Rec>(n);
        const job = new Job({ name: 'bench-kinesis-source', batchSize: 10_000 });
        job.source(kinesisSource<Rec>({ ...conn, stream: s2, format: jsonFormat<Rec>() }), { uid: 'in' }).sinkTo(count);
        const running = job.start();
        await all;
        running.cancel();
        await running.done.catch(() => {});
      });
      console.log(` round ${round}`);
      fmt('loop: PutRecords of 500', put);
      fmt('kinesisSink (job from a generator)', sink, put);
      fmt('loop: GetRecords of 10,000, parse', get);
      fmt('kinesisSource (batches of 10,000)', source, get);
      Object.assign(out, { [`r${round}LoopPut`]: Math.round(put.perSecond), [`r${round}Sink`]: Math.round(sink.perSecond), [`r${round}LoopGet`]: Math.round(get.perSecond), [`r${round}Source`]: Math.round(source.perSecond) });
    }
  } finally {
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return out;
}
