import { MARKER_HEADER, decodeMarker, decodeRecord } from './repartition-codec.js';
import { ProducerWatermarks, type ProducerState } from './watermark-merger.js';

/** One record read from a repartition topic. */
export interface RepartitionRecord<T> {
  readonly partition: number;
  readonly offset: number;
  readonly value: T;
  /** Event time; NaN when the record had none. */
  readonly timestamp: number;
}

/** What one batch of messages gives: their data records, and the merged watermark if it moved forward. */
export interface RepartitionBatch<T> {
  readonly records: RepartitionRecord<T>[];
  readonly watermark?: number;
}

/** A record of a repartition topic, as a member's fetcher (or a client's message stream) hands it out. */
export interface RepartitionMessage {
  readonly partition: number;
  readonly offset: bigint;
  readonly value: Buffer | null | undefined;
  readonly headers?: Iterable<readonly [Buffer | null | undefined, Buffer | null | undefined]>;
}

const MARKER = Buffer.from(MARKER_HEADER);

/**
 * The consuming side of a keyed exchange across processes: turns the messages of the
 * repartition partitions a task owns into its records, and the producers' watermark
 * markers into its watermark (`ProducerWatermarks`: per partition the minimum over the
 * input partitions the producers speak for, then the minimum over partitions).
 */
export class RepartitionDecoder<T> {
  private readonly merger: ProducerWatermarks;

  /** `idleTimeoutMs`: how long a producer without partitioned input may stay silent before it stops holding the watermark back (Infinity: never). */
  constructor(idleTimeoutMs: number) {
    this.merger = new ProducerWatermarks(idleTimeoutMs);
  }

  /** The partitions read now (from the group's assignment). */
  assign(partitions: readonly number[]): void {
    this.merger.assign(partitions);
  }

  /** The producers' watermarks per partition, for a checkpoint (see {@link ProducerWatermarks.snapshot}). */
  snapshot(): ProducerState {
    return this.merger.snapshot();
  }

  /** Takes back a {@link snapshot} for the partitions assigned now. */
  restore(state: ProducerState, now: number): void {
    this.merger.restore(state, now);
  }

  /** Decodes messages read at processing time `now`. */
  decode(messages: readonly RepartitionMessage[], now: number): RepartitionBatch<T> {
    const records: RepartitionRecord<T>[] = [];
    for (const m of messages) {
      // Data records have no headers; a marker has its own.
      let marker = false;
      for (const [k] of m.headers ?? []) if (k?.equals(MARKER)) marker = true;
      if (marker) {
        this.merger.marker(m.partition, decodeMarker(m.value), now);
        continue;
      }
      const { value, timestamp } = decodeRecord<T>(m.value);
      records.push({ partition: m.partition, offset: Number(m.offset), value, timestamp });
    }
    const watermark = this.merger.advance(now);
    return watermark === undefined ? { records } : { records, watermark };
  }
}
