import { SluiceError } from '../errors/index.js';
import { keyGroupOf, subtaskForKeyGroup } from '../state/key-groups.js';
import type { Key } from '../state/types.js';

/**
 * The records of a repartition topic. A data record has no key and no headers: its value
 * is `[timestamp, record]` as JSON, the event time first (null for a record without one,
 * a string for ±Infinity; Kafka's own timestamp cannot hold negative or fractional times).
 * A watermark marker has the `sluice-wm` and `sluice-task` headers and a JSON value
 * {@link WatermarkMarker}. Nothing per record but its value: a header map and a key cost
 * two allocations each way for every record. JSON is the codec: records must survive
 * `JSON.stringify` (no bigint, no Map).
 */
export const TASK_HEADER = 'sluice-task';
/**
 * The version of this layout (and of the changelog records', `changelog-storage.ts`). It is
 * part of the job's fingerprint in `<cluster>-meta`: members of a Sluice that writes another
 * layout are refused (CLUSTER_JOB_MISMATCH) instead of misreading each other's records.
 * 2: value-only data records, watermark markers that speak for input partitions.
 */
export const INTERNAL_TOPICS_FORMAT = 2;
export const MARKER_HEADER = 'sluice-wm';

/**
 * What a producing task tells every partition of a repartition topic about its event time.
 * A task of a sub-topology that reads partitioned input (Kafka source topics, repartition
 * topics) speaks for the input partitions it reads (`covers`), under the group generation
 * its attempt began in: a consumer takes the newest generation's word for each input
 * partition, so the member that took a partition over replaces the one that had it, and a
 * late marker of an old owner changes nothing (`watermark-merger.ts`).
 */
export interface WatermarkMarker {
  /** The producing task (`<member>/<step>#<subtask>`); its data records carry it too. */
  readonly task: string;
  /** Its watermark; -Infinity and Infinity allowed (Infinity: it has ended). */
  readonly watermark: number;
  /** True: the producer is idle (its input delivers nothing), so it must not hold consumers back until it is heard from again. */
  readonly idle?: boolean;
  /** The consumer group generation the producer's attempt began in (0 for a producer outside a group). */
  readonly generation: number;
  /** Every input topic of the producing sub-topology, with its partition count: the input partitions a consumer waits to hear about. */
  readonly inputs: Readonly<Record<string, number>>;
  /** The input partitions (`topic/partition`) this producer reads now; empty for a sub-topology without partitioned input (it speaks for itself). */
  readonly covers: readonly string[];
  /** The producer's subtask index, and how many subtasks of its step read these input partitions together. */
  readonly subtask: number;
  readonly subtasks: number;
}

/** The partition of a repartition topic with `partitions` partitions that owns `key`: its key group's owner, as Flink assigns key-group ranges to subtasks. */
export function repartitionPartition(key: Key, partitions: number, maxParallelism: number): number {
  return subtaskForKeyGroup(keyGroupOf(key, maxParallelism), partitions, maxParallelism);
}

function numberText(n: number): string {
  return n === Number.POSITIVE_INFINITY ? 'Infinity' : n === Number.NEGATIVE_INFINITY ? '-Infinity' : String(n);
}

export function encodeMarker(marker: WatermarkMarker): Buffer {
  const { task, generation, inputs, covers, subtask, subtasks } = marker;
  return Buffer.from(JSON.stringify({ task, watermark: numberText(marker.watermark), ...(marker.idle ? { idle: true } : {}), generation, inputs, covers, subtask, subtasks }));
}

const isCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

export function decodeMarker(value: Buffer | undefined | null): WatermarkMarker {
  try {
    const m = JSON.parse(value?.toString() ?? '') as Record<string, unknown>;
    const watermark = Number(m.watermark);
    const { task, generation, inputs, covers, subtask, subtasks } = m;
    if (
      typeof task === 'string' &&
      typeof m.watermark === 'string' &&
      !Number.isNaN(watermark) &&
      Number.isInteger(generation) &&
      typeof inputs === 'object' &&
      inputs !== null &&
      Object.values(inputs).every(isCount) &&
      Array.isArray(covers) &&
      covers.every((c) => typeof c === 'string') &&
      isCount(subtask) &&
      isCount(subtasks) &&
      subtask < subtasks
    ) {
      return { task, watermark, ...(m.idle === true ? { idle: true } : {}), generation: generation as number, inputs: inputs as Record<string, number>, covers: covers as string[], subtask, subtasks };
    }
  } catch {
    // reported below
  }
  throw new SluiceError('INTERNAL', `a watermark marker of a repartition topic cannot be read: ${value?.toString().slice(0, 200)}`);
}

/** A data record's value: `[timestamp, record]`. */
export function encodeRecord(value: unknown, timestamp: number): Buffer {
  const ts = Number.isNaN(timestamp) ? null : Number.isFinite(timestamp) ? timestamp : numberText(timestamp);
  return Buffer.from(JSON.stringify([ts, value]));
}

export function decodeRecord<T>(bytes: Buffer | null | undefined): { value: T; timestamp: number } {
  let decoded: unknown;
  try {
    decoded = bytes ? JSON.parse(bytes.toString()) : undefined;
  } catch {
    // reported below
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw new SluiceError('INTERNAL', `a record of a repartition topic cannot be read: ${bytes?.toString().slice(0, 200)}`);
  const [ts, value] = decoded as [number | string | null, T];
  return { value, timestamp: ts === null ? Number.NaN : Number(ts) };
}
