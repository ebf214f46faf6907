import type { Admin } from '@platformatic/kafka';

/** A ListConsumerGroupOffsets answer: per group, its committed offsets by topic. */
type GroupOffsets = Awaited<ReturnType<Admin['listConsumerGroupOffsets']>>;

/**
 * The offsets a cluster's lag is made of, as `sluice cluster status` (`status.ts`) and a
 * member's `/metrics` (`member-metrics.ts`) both read them with the Kafka Admin client:
 * a partition's end (its last stable offset) and the group's committed offset. Maps are
 * keyed by {@link partitionKey}.
 */

/** ListOffsets' `timestamp` that asks for the end of a partition. */
export const TIMESTAMP_LATEST = -1n;
/** Kafka's isolation level read_committed: ends are last stable offsets, before any open transaction. */
export const READ_COMMITTED = 1;

/** How the offset maps name a partition: `topic/partition`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** The last stable offset (read_committed: records of open transactions not counted) of each of `partitions` (topic → partitions). */
export async function endOffsets(admin: Admin, partitions: Iterable<readonly [string, readonly number[]]>): Promise<Map<string, number>> {
  const topics = [...partitions]
    .filter(([, ps]) => ps.length > 0)
    .map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp: TIMESTAMP_LATEST })) }));
  const ends = new Map<string, number>();
  if (topics.length === 0) return ends;
  const listed = await admin.listOffsets({ topics, isolationLevel: READ_COMMITTED });
  for (const t of listed) for (const p of t.partitions) ends.set(partitionKey(t.name, p.partitionIndex), Number(p.offset));
  return ends;
}

/** Group `groupId`'s committed offsets (the next offset to read) in a ListConsumerGroupOffsets answer; a partition without one is left out. */
export function committedOffsetsOf(listed: GroupOffsets, groupId: string): Map<string, number> {
  const committed = new Map<string, number>();
  for (const t of listed.find((g) => g.groupId === groupId)?.topics ?? []) {
    for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(partitionKey(t.name, p.partitionIndex), Number(p.committedOffset));
  }
  return committed;
}

/** Group `groupId`'s committed offsets of `partitions` (topic → partitions); a partition without one is left out. */
export async function committedOffsets(admin: Admin, groupId: string, partitions: Iterable<readonly [string, readonly number[]]>): Promise<Map<string, number>> {
  const topics = [...partitions].filter(([, ps]) => ps.length > 0).map(([name, ps]) => ({ name, partitionIndexes: [...ps] }));
  if (topics.length === 0) return new Map();
  return committedOffsetsOf(await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics }] }), groupId);
}

/**
 * A partition's lag: `end - committed`, at least 0; undefined without a committed offset.
 * Offsets count transaction markers too; a member commits its position past the markers
 * after the last record it read, so a partition read to its end comes to 0 (see
 * `clusterStatus`).
 */
export function partitionLag(end: number, committed: number | undefined): number | undefined {
  return committed === undefined ? undefined : Math.max(0, end - committed);
}
