/**
 * What a Kafka source reader keeps in a checkpoint: the next offset to read per
 * partition, and its membership in the consumer group.
 */
import { randomUUID } from 'node:crypto';

/** A checkpointed position of a Kafka source reader. */
export interface KafkaSourcePosition {
  /** The next offset to read, per partition (keys are partition numbers). */
  readonly offsets: Record<string, number>;
  /**
   * The reader's static group membership (`group.instance.id`). A reader restored from
   * this position joins the group as the same member, which takes the place of the
   * member of the process that crashed at once: a dynamic member would wait for the
   * crashed one's session to time out first (`sessionTimeout`, 10 s), and read nothing
   * meanwhile. Absent after a restore at another parallelism (each reader then is new).
   */
  readonly member?: string;
}

/**
 * A position as a checkpoint holds it. Checkpoints taken before the group membership
 * was kept hold the offsets alone (`{ '0': 10, '1': 4 }`): read as offsets without a member.
 */
export function readPosition(stored: unknown): KafkaSourcePosition | undefined {
  if (stored === undefined || stored === null || typeof stored !== 'object') return undefined;
  const p = stored as Partial<KafkaSourcePosition> & Record<string, unknown>;
  if (typeof p.offsets === 'object' && p.offsets !== null) return typeof p.member === 'string' ? { offsets: p.offsets, member: p.member } : { offsets: p.offsets };
  return { offsets: p as Record<string, number> };
}

/**
 * The positions of readers of another parallelism, merged: the highest next offset per
 * partition (offsets only grow, and the reader that owned a partition last read furthest).
 * Every new reader gets all of it and seeks the partitions it is assigned. No member:
 * the readers of the new parallelism are not the old ones.
 */
export function mergePositions(positions: readonly unknown[]): KafkaSourcePosition {
  const merged: Record<string, number> = {};
  for (const p of positions) {
    for (const [partition, offset] of Object.entries(readPosition(p)?.offsets ?? {})) if (!(merged[partition]! >= offset)) merged[partition] = offset;
  }
  return { offsets: merged };
}

/**
 * A group instance id for a reader that has none to restore: unique, and naming the step
 * and reader in the characters Kafka allows there (letters, digits, '.', '_', '-').
 */
export function newMember(uid: string, index: number): string {
  return `sluice-${uid.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 100)}-${index}-${randomUUID().slice(0, 8)}`;
}
