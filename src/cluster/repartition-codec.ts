import { SluiceError } from '../errors/index.js';
import { keyGroupOf, subtaskForKeyGroup } from '../state/key-groups.js';
import type { Key } from '../state/types.js';

/**
 * The records of a repartition topic. A data record's value is the record as JSON, its
 * event time in the `sluice-ts` header (absent for a record without one; Kafka's own
 * timestamp cannot hold negative or fractional times) and its producing task in
 * `sluice-task`. A watermark marker has the `sluice-wm` header and a JSON value
 * {@link WatermarkMarker}. JSON is the slice's codec: keys and values must survive
 * `JSON.stringify` (no bigint, no Map); a pluggable codec comes with the member.
 */
export const TS_HEADER = 'sluice-ts';
export const TASK_HEADER = 'sluice-task';
export const MARKER_HEADER = 'sluice-wm';

/** What a producing task tells every partition of a repartition topic about its event time. */
export interface WatermarkMarker {
  /** The producing task: `<sub-topology>/<partition>` (or any id stable for the task's life). */
  readonly task: string;
  /** Its watermark; -Infinity and Infinity allowed (Infinity: it has ended). */
  readonly watermark: number;
  /** True: the producer is idle (its input delivers nothing), so it must not hold consumers back until it is heard from again. */
  readonly idle?: boolean;
}

/** The partition of a repartition topic with `partitions` partitions that owns `key`: its key group's owner, as Flink assigns key-group ranges to subtasks. */
export function repartitionPartition(key: Key, partitions: number, maxParallelism: number): number {
  return subtaskForKeyGroup(keyGroupOf(key, maxParallelism), partitions, maxParallelism);
}

function numberText(n: number): string {
  return n === Number.POSITIVE_INFINITY ? 'Infinity' : n === Number.NEGATIVE_INFINITY ? '-Infinity' : String(n);
}

export function encodeMarker(marker: WatermarkMarker): Buffer {
  return Buffer.from(JSON.stringify({ task: marker.task, watermark: numberText(marker.watermark), ...(marker.idle ? { idle: true } : {}) }));
}

export function decodeMarker(value: Buffer | undefined | null): WatermarkMarker {
  try {
    const m = JSON.parse(value?.toString() ?? '') as { task: unknown; watermark: unknown; idle?: unknown };
    const watermark = Number(m.watermark);
    if (typeof m.task === 'string' && typeof m.watermark === 'string' && !Number.isNaN(watermark)) return { task: m.task, watermark, ...(m.idle === true ? { idle: true } : {}) };
  } catch {
    // reported below
  }
  throw new SluiceError('INTERNAL', `a watermark marker of a repartition topic cannot be read: ${value?.toString().slice(0, 200)}`);
}

export function encodeTimestamp(ts: number): Buffer | undefined {
  return Number.isNaN(ts) ? undefined : Buffer.from(numberText(ts));
}

export function decodeTimestamp(header: Buffer | undefined): number {
  return header === undefined ? Number.NaN : Number(header.toString());
}
