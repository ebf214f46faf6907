import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFormat } from '../../../src/formats/index.js';
import { describeSink, describeSource, testSourceContext } from '../../../src/testing/index.js';
import { kinesisSink, kinesisSource } from '../../../src/connectors/kinesis/index.js';
import { describeFormats, type Order } from '../format-cases.js';

// kinesalite (npm): a Kinesis-compatible server in this process, in memory. It speaks HTTP/1.1 only.
const kinesalite = createRequire(import.meta.url)('kinesalite') as (o: Record<string, unknown>) => Server;
let server: Server;
let endpoint = '';
let client: KinesisClient;
const conn = () => ({ endpoint, region: 'us-east-1', clientConfig: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestHandler: new NodeHttpHandler() } });
beforeAll(async () => {
  server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c = conn();
  client = new KinesisClient({ endpoint: c.endpoint, region: c.region, ...c.clientConfig });
});
afterAll(async () => {
  client?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

async function active(stream: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stream ${stream} did not become active`);
}
async function fresh(shards = 1): Promise<string> {
  const stream = `s-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  await active(stream);
  return stream;
}
async function put(stream: string, data: Array<Uint8Array | string>, key: (i: number) => string = () => 'k'): Promise<void> {
  for (let i = 0; i < data.length; i += 500) {
    const r = await client.send(new PutRecordsCommand({ StreamName: stream, Records: data.slice(i, i + 500).map((d, j) => ({ Data: typeof d === 'string' ? Buffer.from(d) : d, PartitionKey: key(i + j) })) }));
    expect(r.FailedRecordCount ?? 0).toBe(0);
  }
}
/** Every record of every shard, shard by shard. */
async function readAll(stream: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const s of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let i = 0; it && i < 100; i++) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const rec of r.Records ?? []) out.push(JSON.parse(Buffer.from(rec.Data!).toString()));
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

interface Rec {
  i: number;
}
const make = (i: number): Rec => ({ i });

describeSource<Rec>('kinesisSource', {
  guarantee: 'exactly-once',
  make,
  count: 1000,
  policies: ['fail', 'dead-letter', 'skip'],
  prepare: async (values, bad) => {
    const stream = await fresh();
    const data: Array<Uint8Array | string> = [];
    values.forEach((v, i) => {
      const b = bad.get(i);
      if (b) data.push(b);
      data.push(JSON.stringify(v));
    });
    await put(stream, data);
    return { source: (opts) => kinesisSource<Rec>({ ...conn(), stream, format: jsonFormat<Rec>(), onBadRecord: opts?.onBadRecord }) };
  },
});

describeSink<Rec>('kinesisSink', {
  kind: 'at-least-once',
  make,
  count: 600,
  prepare: async () => {
    const stream = await fresh(2);
    return { sink: kinesisSink<Rec>({ ...conn(), stream, partitionKey: (r) => `k${r.i % 5}`, format: jsonFormat<Rec>() }), read: () => readAll(stream) };
  },
});

describe('kinesisSource across a reshard', () => {
  it('reads a split parent to its end before its children: every key in order, nothing lost or doubled', async () => {
    const stream = await fresh(1);
    const keys = 8;
    const before = Array.from({ length: 200 }, (_, i) => ({ k: `k${i % keys}`, n: Math.floor(i / keys) }));
    await put(stream, before.map((r) => JSON.stringify(r)), (i) => before[i]!.k);
    const parent = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!;
    const mid = (BigInt(parent.HashKeyRange!.StartingHashKey!) + BigInt(parent.HashKeyRange!.EndingHashKey!)) / 2n;
    await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: parent.ShardId, NewStartingHashKey: mid.toString() }));
    await active(stream);
    const after = Array.from({ length: 200 }, (_, i) => ({ k: `k${i % keys}`, n: 25 + Math.floor(i / keys) }));
    await put(stream, after.map((r) => JSON.stringify(r)), (i) => after[i]!.k);
    expect((await client.send(new ListShardsCommand({ StreamName: stream }))).Shards).toHaveLength(3);

    // Children first in the listing order would break the order per key: the reader must wait for the parent.
    const reader = kinesisSource<{ k: string; n: number }>({ ...conn(), stream, format: jsonFormat() }).createReader(testSourceContext({ maxBatchSize: 7, maxPollWaitMs: 10 }));
    await reader.open!();
    const got: Array<{ k: string; n: number }> = [];
    for (let polls = 0; got.length < 400 && polls < 500; polls++) got.push(...(await reader.poll()).values);
    const position = reader.snapshotPosition!(1) as { shards: Record<string, { done?: boolean }> };
    await reader.close();
    expect(got).toHaveLength(400);
    for (let k = 0; k < keys; k++) expect(got.filter((r) => r.k === `k${k}`).map((r) => r.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(position.shards[parent.ShardId!]).toEqual({ done: true });
  });
});

describeFormats('kinesisSink and kinesisSource with every format (kinesalite)', async () => {
  const stream = await fresh();
  return {
    sink: (format) => kinesisSink<Order>({ ...conn(), stream, partitionKey: (o) => o.id, format }),
    publish: (messages) => put(stream, messages),
    source: (format) => kinesisSource<Order>({ ...conn(), stream, format }),
    position: /^shardId-\d+:\d+$/,
  };
});
