import type { Consumer } from '@platformatic/kafka';
import { SluiceError } from '../errors/index.js';

/** Control batches (transaction markers) carry no records of ours. */
const CONTROL = 0x20;

/** A committed data record, as {@link readCommittedRange} hands it out. */
export interface FetchedRecord {
  readonly offset: bigint;
  readonly value: Buffer | null;
  readonly timestamp: bigint;
  readonly headers: ReadonlyArray<[Buffer | null, Buffer | null]>;
}

/** A record as the client parsed it from its batch. */
export interface RawRecord {
  readonly offsetDelta: number;
  readonly timestampDelta: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<[Buffer | null, Buffer | null]>;
}

/** The parts of a fetched partition that records are read from. */
export interface FetchedPartition {
  readonly records?: ReadonlyArray<{
    readonly firstOffset: bigint;
    readonly lastOffsetDelta: number;
    readonly firstTimestamp: bigint;
    readonly attributes: number;
    readonly records: readonly RawRecord[];
  }>;
}

/**
 * Hands out the data records of one fetched partition at offsets from `from` (and below
 * `end`), transaction markers skipped; returns the offset after the last batch (markers
 * and emptied batches included), where the next fetch starts. Aborted transactions must
 * have been emptied already: every consumer from `loadKafkaClient` does it
 * (`connectors/kafka/read-committed.ts`).
 */
export function committedRecords(partition: FetchedPartition, from: bigint, end: bigint | undefined, each: (offset: bigint, timestamp: bigint, record: RawRecord) => void): bigint {
  let next = from;
  for (const batch of partition.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    if ((batch.attributes & CONTROL) !== 0) continue;
    for (const r of batch.records) {
      const at = batch.firstOffset + BigInt(r.offsetDelta);
      if (at < from || (end !== undefined && at >= end)) continue;
      each(at, batch.firstTimestamp + r.timestampDelta, r);
    }
  }
  return next;
}

/**
 * Reads the committed data records of `topic`'s partition `partition` in [`from`, `end`),
 * by offset, with a consumer that never joins a group (joining would rebalance the
 * cluster) and comes from `loadKafkaClient` (its `read_committed` skips every aborted
 * transaction). `what` names the read in errors.
 */
export async function readCommittedRange(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  partition: number,
  from: bigint,
  end: bigint,
  what: string,
  each: (record: FetchedRecord) => void,
): Promise<void> {
  let offset = from;
  while (offset < end) {
    const metadata = await consumer.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic)!;
    const response = await consumer.fetch({
      node: t.partitions[partition]!.leader,
      topics: [{ topicId: t.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 16 * 1024 * 1024 }] }],
      isolationLevel: 1,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 64 * 1024 * 1024,
    });
    const p = response.responses[0]?.partitions.find((x) => x.partitionIndex === partition);
    if (!p) throw new SluiceError('CHECKPOINT_INVALID', `${what} ${topic}/${partition}: the broker returned no data`);
    if (p.errorCode !== 0) throw new SluiceError('CHECKPOINT_INVALID', `${what} ${topic}/${partition}: fetch error ${p.errorCode}`);
    const next = committedRecords(p, offset, end, (at, timestamp, r) => each({ offset: at, value: r.value, timestamp, headers: r.headers }));
    if (next === offset) break; // nothing more below the end (aborted records, or the end moved)
    offset = next;
  }
}

/**
 * The last committed data record of `topic`'s partition `partition` before offset `before`,
 * looking at most `window` offsets back (markers and aborted records sit between data
 * records); undefined when there is none. A task resuming at a committed offset reads it to
 * know where its partition's event time was: without it, a partition that gets no new
 * record after a rebalance holds the watermark back for ever.
 */
export async function lastRecordBefore(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, topic: string, partition: number, before: bigint, window = 32n): Promise<FetchedRecord | undefined> {
  let found: FetchedRecord | undefined;
  const from = before - window > 0n ? before - window : 0n;
  await readCommittedRange(consumer, topic, partition, from, before, 'cluster source', (r) => (found = r));
  return found;
}
