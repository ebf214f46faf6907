import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kafkaSource, PartitionWatermarks, type KafkaSourcePosition } from '../../../src/connectors/kafka/index.js';
import type { SourceReader } from '../../../src/connectors/source.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { BROKERS, freshTopic, produce } from './helpers.js';

interface Rec {
  i: number;
}

/** Polls until `n` values came (or fails after `timeoutMs`); returns them with the watermarks seen. */
async function pollN<T>(reader: SourceReader<T>, n: number, timeoutMs = 20_000): Promise<{ values: T[]; timestamps: number[]; watermarks: number[] }> {
  const values: T[] = [];
  const timestamps: number[] = [];
  const watermarks: number[] = [];
  const start = Date.now();
  while (values.length < n) {
    if (Date.now() - start > timeoutMs) throw new Error(`only ${values.length} of ${n} records within ${timeoutMs} ms`);
    const b = await reader.poll();
    values.push(...b.values);
    timestamps.push(...(b.timestamps ?? []));
    if (b.watermark !== undefined) watermarks.push(b.watermark);
  }
  return { values, timestamps, watermarks };
}

describe('kafkaSource (real broker)', () => {
  it('reads every partition, and a reader restored from a checkpointed position goes on right after it', async () => {
    const topic = await freshTopic('src-restore', 3);
    const N = 3000;
    await produce(topic, Array.from({ length: N }, (_, i) => ({ value: JSON.stringify({ i }), partition: i % 3 })));
    const groupId = `g-${randomUUID()}`;
    const src = kafkaSource<Rec>({ brokers: BROKERS, topic, groupId, startFrom: 'earliest' });
    expect(src.replayable).toBe(true);

    const first = src.createReader(testSourceContext({ maxBatchSize: 100 }));
    await first.open?.();
    const part1 = await pollN(first, 1000);
    const position = first.snapshotPosition?.(1) as KafkaSourcePosition;
    // The position covers exactly what was handed out: offsets per partition sum to the records read.
    expect(Object.values(position.offsets).reduce((a, b) => a + b, 0)).toBe(part1.values.length);
    // And names the reader's group membership, which the restored reader takes over.
    expect(position.member).toMatch(/^sluice-/);
    await first.notifyCheckpointComplete?.(1);
    await first.close();

    const second = src.createReader({ ...testSourceContext({ maxBatchSize: 500 }), restoredPosition: position });
    await second.open?.();
    const part2 = await pollN(second, N - part1.values.length);
    await second.close();

    const all = [...part1.values, ...part2.values].map((r) => r.i).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: N }, (_, i) => i)); // each record exactly once
    // Record timestamps come from Kafka.
    expect(part1.timestamps.every((t) => Number.isFinite(t) && t > 1e12)).toBe(true);
  });

  it('per-partition watermarks: the minimum over partitions, and an idle partition does not hold them back', async () => {
    const topic = await freshTopic('src-wm', 2);
    // Partition 0 runs ahead (t = 10 000..19 900), partition 1 behind (t = 5 000..5 990).
    const recs = [
      ...Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ i }), partition: 0, timestamp: 10_000 + i * 100 })),
      ...Array.from({ length: 100 }, (_, i) => ({ value: JSON.stringify({ i: 100 + i }), partition: 1, timestamp: 5_000 + i * 10 })),
    ];
    await produce(topic, recs);
    const src = kafkaSource<Rec>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', watermarks: { outOfOrderness: 1000, idleTimeout: 1500 } });
    const reader = src.createReader(testSourceContext({ maxBatchSize: 1000 }));
    await reader.open?.();
    const got = await pollN(reader, 200);
    // While both partitions are active the watermark follows the slower one: 5 990 - 1 000 - 1.
    expect(Math.max(...got.watermarks)).toBe(4989);
    for (let i = 1; i < got.watermarks.length; i++) expect(got.watermarks[i]).toBeGreaterThan(got.watermarks[i - 1]!);
    // Partition 1 goes quiet; partition 0 gets more: once 1 is idle the watermark follows 0 alone.
    await new Promise((r) => setTimeout(r, 1600));
    await produce(topic, [{ value: JSON.stringify({ i: 200 }), partition: 0, timestamp: 30_000 }]);
    const later = await pollN(reader, 1);
    let wm = later.watermarks.at(-1);
    for (let k = 0; k < 20 && wm === undefined; k++) wm = (await reader.poll()).watermark;
    expect(wm).toBe(30_000 - 1000 - 1);
    await reader.close();
  });

  it('the watermark tracker holds back for a silent assigned partition until it turns idle', () => {
    const w = new PartitionWatermarks(0, 100);
    w.assign([0, 1], 0);
    w.observe(0, 50, 10);
    expect(w.advance(10)).toBeUndefined(); // partition 1 assigned, nothing seen, not idle yet
    expect(w.advance(100)).toBe(49); // partition 1 idle now
    w.observe(1, 20, 120); // active again, behind: the watermark does not go back
    expect(w.advance(120)).toBeUndefined();
    w.observe(1, 80, 130);
    w.observe(0, 90, 130);
    expect(w.advance(130)).toBe(79);
  });

  it('bounded: reads up to the offsets that were latest at open, then reports done', async () => {
    const topic = await freshTopic('src-bounded', 2);
    await produce(topic, Array.from({ length: 500 }, (_, i) => ({ value: JSON.stringify({ i }), partition: i % 2 })));
    const src = kafkaSource<Rec>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest', bounded: true });
    expect(src.bounded).toBe(true);
    const reader = src.createReader(testSourceContext({ maxBatchSize: 128 }));
    await reader.open?.();
    const values: Rec[] = [];
    const start = Date.now();
    for (;;) {
      const b = await reader.poll();
      values.push(...b.values);
      if (b.done) break;
      if (Date.now() - start > 20_000) throw new Error(`not done after ${values.length} records`);
    }
    await reader.close();
    expect(values.map((r) => r.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("a rejoin that rewinds the stream to the group's committed offsets hands out no record twice", async () => {
    const topic = await freshTopic('src-rejoin', 1);
    const N = 1000;
    await produce(topic, Array.from({ length: N }, (_, i) => ({ value: JSON.stringify({ i }) })));
    const src = kafkaSource<Rec>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}` }); // startFrom 'committed'
    const reader = src.createReader(testSourceContext({ maxBatchSize: 100 }));
    await reader.open?.();
    const got = (await pollN(reader, 300)).values;
    reader.snapshotPosition?.(1);
    await reader.notifyCheckpointComplete?.(Number.MAX_SAFE_INTEGER); // commits the 300 (awaited)
    got.push(...(await pollN(reader, 300)).values);
    // Another member joins and leaves: each time the group rebalances, and the reader's
    // stream seeks back to the committed offset (300) of the partition it gets back.
    const other = src.createReader(testSourceContext());
    await other.open?.();
    await other.close();
    // Read on a while after the last record: what the stream fetches again must not come out.
    for (let start = Date.now(), quietSince = Date.now(); Date.now() - start < 20_000 && !(got.length >= N && Date.now() - quietSince > 2000); ) {
      const b = await reader.poll();
      got.push(...b.values);
      if (b.values.length > 0) quietSince = Date.now();
    }
    await reader.close();
    expect(got.map((r) => r.i)).toEqual(Array.from({ length: N }, (_, i) => i)); // in order, each once
  });

  it('bad records go to badRecord with topic/partition@offset, and reading goes on', async () => {
    const topic = await freshTopic('src-bad', 1);
    await produce(topic, [{ value: '{"i":0}' }, { value: 'not json' }, { value: '{"i":2}' }, { value: '{"i":' }, { value: '{"i":4}' }]);
    const ctx = testSourceContext();
    const reader = kafkaSource<Rec>({ brokers: BROKERS, topic, groupId: `g-${randomUUID()}`, startFrom: 'earliest' }).createReader(ctx);
    await reader.open?.();
    const got = await pollN(reader, 3);
    await reader.close();
    expect(got.values.map((r) => r.i)).toEqual([0, 2, 4]);
    expect(ctx.badRecords.map((b) => b.position)).toEqual([`${topic}/0@1`, `${topic}/0@3`]);
    expect(Buffer.from(ctx.badRecords[0]!.raw).toString()).toBe('not json');
    expect(ctx.badRecords[0]!.error).toBeInstanceOf(SyntaxError);
  });
});
