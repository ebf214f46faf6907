import type { Consumer } from '@platformatic/kafka';
import { SluiceError } from '../errors/index.js';
import { readCommittedRange } from './partition-fetch.js';

/** A header of changelog records: `<i>/<n>`, chunk i of the n that hold one task's state at one checkpoint. */
export const CHUNK_HEADER = 'sluice-chunk';
/** A header of changelog records: which write the chunk belongs to (`<member>:<checkpoint>`). */
export const WRITE_HEADER = 'sluice-write';


interface ChunkRecord {
  readonly offset: bigint;
  readonly value: Buffer;
  readonly chunk: number;
  readonly of: number;
  readonly write: string;
}

function headerOf(headers: ReadonlyArray<[Buffer | null, Buffer | null]>, name: string): string | undefined {
  for (const [k, v] of headers) if (k?.toString() === name) return v?.toString();
  return undefined;
}

/**
 * Reads the state a task last committed to a changelog partition: the chunks of its last
 * write, from the partition's tail. Records are fetched directly by offset (a consumer
 * that never joins a group: joining would rebalance the cluster), `read_committed` up to
 * the last stable offset, the batches of aborted transactions skipped, so the writes of
 * transactions that were aborted or are still open are never seen. Starts
 * a few records before the last stable offset and goes further back only when the last
 * write is longer than that.
 */
export class ChangelogReader {
  constructor(private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>) {}

  /** The earliest offset and the last stable offset (`read_committed`) of each of `partitions` of `topic`. */
  async bounds(topic: string, partitions: readonly number[]): Promise<Map<number, { start: bigint; end: bigint }>> {
    const out = new Map<number, { start: bigint; end: bigint }>();
    if (partitions.length === 0) return out;
    const ask = (timestamp: bigint) => this.consumer.listOffsets({ topics: [topic], partitions: { [topic]: [...partitions] }, timestamp, isolationLevel: 1 });
    const [earliest, latest] = await Promise.all([ask(-2n), ask(-1n)]);
    for (const p of partitions) out.set(p, { start: earliest.get(topic)?.[p] ?? 0n, end: latest.get(topic)?.[p] ?? 0n });
    return out;
  }

  /** The chunks of the last complete write to `topic`'s partition `partition`, in order; undefined when the partition holds none. */
  async lastWrite(topic: string, partition: number, bounds?: { start: bigint; end: bigint }): Promise<{ chunks: Buffer[]; records: number } | undefined> {
    const { start, end } = bounds ?? (await this.bounds(topic, [partition])).get(partition)!;
    if (end <= start) return undefined;
    for (let window = 16n; ; window *= 8n) {
      const from = end - window > start ? end - window : start;
      const records = await this.read(topic, partition, from, end);
      const found = lastComplete(records);
      if (found) return { chunks: found.map((r) => r.value), records: records.length };
      if (from === start) {
        if (records.length === 0) return undefined;
        throw new SluiceError('CHECKPOINT_INVALID', `cluster changelog ${topic}/${partition} ends in an incomplete write (chunks of ${records.at(-1)!.write})`, {
          hint: 'The changelog was written by another version of Sluice, or damaged; delete the cluster’s internal topics to start its state afresh.',
        });
      }
    }
  }

  private async read(topic: string, partition: number, from: bigint, end: bigint): Promise<ChunkRecord[]> {
    const out: ChunkRecord[] = [];
    await readCommittedRange(this.consumer, topic, partition, from, end, 'cluster changelog', (r) => {
      if (r.value === null) return;
      const chunk = headerOf(r.headers, CHUNK_HEADER);
      const write = headerOf(r.headers, WRITE_HEADER);
      if (chunk === undefined || write === undefined) return;
      const [i, n] = chunk.split('/').map(Number) as [number, number];
      out.push({ offset: r.offset, value: r.value, chunk: i, of: n, write });
    });
    return out;
  }
}

/** The chunks 0..n-1 of the last write in `records`, if all are there. */
function lastComplete(records: readonly ChunkRecord[]): ChunkRecord[] | undefined {
  const last = records.at(-1);
  if (!last) return undefined;
  const chunks = records.filter((r) => r.write === last.write);
  if (chunks.length < last.of) return undefined;
  const tail = chunks.slice(-last.of);
  return tail.every((r, i) => r.chunk === i) ? tail : undefined;
}
