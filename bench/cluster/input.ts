/**
 * The cluster benchmark's input: seeded records `{key, ts, value}` spread round-robin over
 * the input topic's partitions (record i to partition i mod P, so the topic is not
 * partitioned by key and every engine must repartition), then closing records that move
 * every task's event time past the last window.
 *
 * Event time: record i is at `startMs + i * 1000 / perSecond`, minus a seeded jitter of up
 * to `disorderMs` (disorder within a partition). The density is fixed whatever the record
 * count (more records make more windows, not fuller ones), so that the disorder between
 * partitions that an engine's reading makes (Kafka Streams takes up to a fetch, about
 * 1 MB, of one partition at a time: ~17k records, 3.5 s of event time at 5k records per
 * partition-second) stays the same part of the lateness at any size.
 */
import { Producer } from '@platformatic/kafka';
import { keysReachingEveryPartition } from './partitions.js';
import type { BenchEvent } from '../jobs/cluster-window-count.js';

export type { BenchEvent };

export interface InputSpec {
  readonly records: number;
  readonly keys: number;
  readonly partitions: number;
  /** Records per second of event time (over all partitions). */
  readonly perSecond: number;
  /** The most a record's timestamp is behind its place in the sequence (ms). */
  readonly disorderMs: number;
  readonly seed: number;
  /** Event time of the first record: a window boundary. */
  readonly startMs: number;
}

/** Window size of the benchmark's job (1 s tumbling). */
export const WINDOW_MS = 1000;
/** Keys of closing records start with this: they never belong to a window the reconcile expects. */
export const CLOSE_PREFIX = '~close-';

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same records in every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Event time the body records cover (ms). */
export function spanMs(spec: InputSpec): number {
  return (spec.records * 1000) / spec.perSecond;
}

/** A record and the input partition it is written to. */
export interface Placed {
  readonly partition: number;
  readonly event: BenchEvent;
}

/** The body records, in the order they are written. */
export function* bodyRecords(spec: InputSpec): Generator<Placed> {
  const next = prng(spec.seed);
  const step = 1000 / spec.perSecond;
  for (let i = 0; i < spec.records; i++) {
    const key = `k${Math.floor(next() * spec.keys)}`;
    const ts = spec.startMs + Math.floor(i * step) - Math.floor(next() * (spec.disorderMs + 1));
    yield { partition: i % spec.partitions, event: { key, ts, value: Math.floor(next() * 1000) } };
  }
}

/**
 * Closing records: in every input partition, one per key of {@link keysReachingEveryPartition}
 * (so every repartition task of either engine gets one), at an event time past the end of
 * the window of `lastTs` by `latenessMs` and one more window: every window up to it closes.
 */
export function closingRecords(partitions: number, lastTs: number, latenessMs: number): Placed[] {
  const lastEnd = Math.floor(lastTs / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
  const ts = lastEnd + latenessMs + WINDOW_MS;
  const keys = keysReachingEveryPartition(CLOSE_PREFIX, partitions);
  const out: Placed[] = [];
  for (let partition = 0; partition < partitions; partition++) for (const key of keys) out.push({ partition, event: { key, ts, value: 0 } });
  return out;
}

/** The closing records of a body generated from `spec`. */
export function closingRecordsOf(spec: InputSpec, latenessMs: number): Placed[] {
  return closingRecords(spec.partitions, spec.startMs + spanMs(spec), latenessMs);
}

/**
 * Writes `records` to `topic` at their partitions, in order, with an idempotent producer;
 * returns how many. One send at a time: two in flight at once get overlapping sequence
 * numbers from this client, and the broker drops the second as a duplicate without an
 * error (seen here: 3 of 25 batches of 4,096 lost). Callers check the topic's end offsets.
 */
export async function produce(brokers: string, topic: string, records: Iterable<Placed>): Promise<number> {
  const producer = new Producer({ clientId: 'sluice-ksbench-input', bootstrapBrokers: [brokers], idempotent: true });
  let n = 0;
  try {
    let batch: Array<{ topic: string; partition: number; value: Buffer }> = [];
    for (const r of records) {
      batch.push({ topic, partition: r.partition, value: Buffer.from(JSON.stringify(r.event)) });
      n++;
      if (batch.length === 16_384) {
        await producer.send({ messages: batch });
        batch = [];
      }
    }
    if (batch.length > 0) await producer.send({ messages: batch });
  } finally {
    await producer.close();
  }
  return n;
}
