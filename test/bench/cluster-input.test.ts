/**
 * The cluster benchmark's own parts (bench/cluster/), without Kafka: its seeded input, its
 * closing records, and its reconcile, which must agree with a streaming count of the same
 * records before it may judge an engine's output.
 */
import { describe, expect, it } from 'vitest';
import { Job, WatermarkStrategy, count, fromCollection, tumbling } from '../../src/index.js';
import { CLOSE_PREFIX, WINDOW_MS, bodyRecords, closingRecordsOf, spanMs, type BenchEvent, type InputSpec } from '../../bench/cluster/input.js';
import { kafkaStreamsPartition, sluicePartition } from '../../bench/cluster/partitions.js';
import { Reconciler, batchCounts } from '../../bench/cluster/reconcile.js';
import type { WindowCount } from '../../bench/jobs/cluster-window-count.js';
import { collecting } from '../helpers.js';

const spec: InputSpec = { records: 3000, keys: 25, partitions: 4, perSecond: 500, disorderMs: 300, seed: 7, startMs: Date.UTC(2026, 0, 1) };
const LATENESS = 1000;
const events = (s: InputSpec = spec): BenchEvent[] => [...bodyRecords(s)].map((r) => r.event);

describe('cluster benchmark input', () => {
  it('is seeded, round-robin over the partitions, and no more out of order than it says', () => {
    const records = [...bodyRecords(spec)];
    expect(records).toEqual([...bodyRecords(spec)]);
    expect(records.map((r) => r.event)).not.toEqual(events({ ...spec, seed: 8 }));
    expect(records.map((r) => r.partition)).toEqual(records.map((_, i) => i % 4));
    for (let p = 0; p < 4; p++) {
      let max = -Infinity;
      for (const r of records.filter((x) => x.partition === p)) {
        expect(r.event.ts).toBeGreaterThanOrEqual(max - spec.disorderMs);
        max = Math.max(max, r.event.ts);
      }
    }
    expect(Math.max(...records.map((r) => r.event.ts))).toBeLessThanOrEqual(spec.startMs + spanMs(spec));
  });

  it('closes every window: a closing record per partition reaches every task of both engines, past the last window and the lateness', () => {
    const closing = closingRecordsOf(spec, LATENESS);
    const lastEnd = Math.max(...events().map((e) => Math.floor(e.ts / WINDOW_MS) * WINDOW_MS + WINDOW_MS));
    for (let p = 0; p < 4; p++) {
      const keys = closing.filter((r) => r.partition === p).map((r) => r.event.key);
      expect(new Set(keys.map((k) => kafkaStreamsPartition(k, 4)))).toEqual(new Set([0, 1, 2, 3]));
      expect(new Set(keys.map((k) => sluicePartition(k, 4)))).toEqual(new Set([0, 1, 2, 3]));
    }
    for (const r of closing) {
      expect(r.event.key.startsWith(CLOSE_PREFIX)).toBe(true);
      expect(r.event.ts - LATENESS).toBeGreaterThan(lastEnd);
    }
  });
});

describe('cluster benchmark reconcile', () => {
  it('agrees with a streaming count of the generated records: 0 missing, 0 doubled, 0 wrong', async () => {
    const input = [...bodyRecords(spec), ...closingRecordsOf(spec, LATENESS)].map((r) => r.event);
    const { sink, out } = collecting<WindowCount>();
    const job = new Job({ name: 'cluster-bench-reference' });
    job
      .source(fromCollection(input), { uid: 'events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<BenchEvent>(LATENESS).withTimestampAssigner((e) => e.ts) })
      .keyBy('key')
      .window(tumbling<BenchEvent>('1s'))
      .aggregate(count(), { uid: 'count-per-key' })
      .map((r): WindowCount => ({ key: r.key as string, windowStart: r.start, count: r.value }), { uid: 'format' })
      .filter((w) => !w.key.startsWith(CLOSE_PREFIX)) // a bounded run fires the closing windows at its end too
      .sinkTo(sink, { uid: 'out' });
    await job.run();
    const reconciler = new Reconciler(batchCounts(events()));
    for (const w of out.values) reconciler.add(w);
    expect(reconciler.result()).toMatchObject({ missing: 0, doubled: 0, wrong: 0 });
    expect(reconciler.complete).toBe(true);
    expect(out.values.length).toBeGreaterThan(spec.keys * 5);
  });

  it('tells missing, doubled and wrong windows apart', () => {
    const expected = new Map([
      ['a|0', 2],
      ['a|1000', 1],
      ['b|0', 3],
    ]);
    const r = new Reconciler(expected);
    r.add({ key: 'a', windowStart: 0, count: 2 });
    r.add({ key: 'a', windowStart: 0, count: 2 }); // doubled
    r.add({ key: 'b', windowStart: 0, count: 2 }); // wrong count, and b|0 stays missing
    r.add({ key: 'c', windowStart: 0, count: 1 }); // no such window
    expect(r.result()).toMatchObject({ expected: 3, received: 4, right: 1, missing: 2, doubled: 1, wrong: 2 });
    expect(r.complete).toBe(false);
  });
});
