import type { Consumer } from '@platformatic/kafka';
import { errorText } from '../connectors/kafka/outage.js';
import { SluiceError } from '../errors/index.js';
import { committedRecords, type FetchedRecord } from './partition-fetch.js';

/** A record of one of the partitions a {@link TopicFetcher} reads. */
export interface TopicRecord extends FetchedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
}

/** Fetch errors that a fresh look at the topic's leaders mends (not leader, leader epoch, unknown partition, not available). */
const STALE_LEADER = new Set([3, 5, 6, 74, 75]);
const OFFSET_OUT_OF_RANGE = 1;
/** Fetches in a row that may fail before the reader fails (with the backoff, about ten seconds). */
const RETRIES = 20;

/**
 * Reads some partitions of one topic from given offsets, `read_committed`, with fetch
 * requests of its own rather than the client's message stream: the stream makes several
 * objects per record (a message, a header map, a bound commit function, a diagnostic
 * context), and garbage collection was a third of a member's CPU. One fetch per leader at
 * a time; nothing is fetched while `full()` says the reader holds enough. A partition whose
 * offset the log no longer has (retention) starts again from `reset`, as a Kafka consumer
 * with `auto.offset.reset` does. Errors that persist end the loop with `fail`.
 */
export class TopicFetcher {
  private readonly next = new Map<number, bigint>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
    readonly topic: string,
    private readonly options: {
      readonly reset: 'earliest' | 'latest';
      readonly maxWaitMs: number;
      readonly full: () => boolean;
      readonly deliver: (records: TopicRecord[]) => void;
      readonly fail: (error: unknown) => void;
    },
  ) {}

  /** Starts reading `partitions` from their `committed` offsets, else from the `reset` end. */
  async start(partitions: readonly number[], committed: (partition: number) => bigint | undefined): Promise<void> {
    const missing = partitions.filter((p) => committed(p) === undefined);
    const ends = missing.length > 0 ? await this.ends(missing) : new Map<number, bigint>();
    for (const p of partitions) this.next.set(p, committed(p) ?? ends.get(p) ?? 0n);
    this.loop = this.run();
  }

  private async ends(partitions: readonly number[]): Promise<Map<number, bigint>> {
    const offsets = await this.consumer.listOffsets({ topics: [this.topic], partitions: { [this.topic]: [...partitions] }, timestamp: this.options.reset === 'earliest' ? -2n : -1n, isolationLevel: 1 });
    const byPartition = offsets.get(this.topic) ?? [];
    return new Map(partitions.map((p) => [p, byPartition[p] ?? 0n]));
  }

  private async run(): Promise<void> {
    let failures = 0;
    let stale = false;
    while (!this.stopped) {
      if (this.next.size === 0 || this.options.full()) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      try {
        stale = await this.fetchOnce(stale);
        failures = 0;
      } catch (e) {
        if (this.stopped) return;
        if (++failures > RETRIES) {
          this.options.fail(new SluiceError('SOURCE_FAILED', `cluster: reading ${this.topic} failed ${failures} times in a row: ${errorText(e)}`, { cause: e }));
          return;
        }
        stale = true;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * failures)));
      }
    }
  }

  /** One fetch from every leader of the partitions read; returns whether the topic's leaders should be looked up afresh. */
  private async fetchOnce(stale: boolean): Promise<boolean> {
    const metadata = await this.consumer.metadata({ topics: [this.topic], forceUpdate: stale });
    const t = metadata.topics.get(this.topic);
    if (!t) throw new Error(`the broker does not know topic ${this.topic}`);
    const byLeader = new Map<number, number[]>();
    for (const p of this.next.keys()) {
      const leader = t.partitions[p]?.leader;
      if (leader === undefined || leader < 0) throw new Error(`partition ${this.topic}/${p} has no leader`);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    let again = false;
    const resets: number[] = [];
    await Promise.all(
      [...byLeader].map(async ([node, partitions]) => {
        const response = await this.consumer.fetch({
          node,
          topics: [{ topicId: t.id, partitions: partitions.map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: this.next.get(partition)!, lastFetchedEpoch: -1, partitionMaxBytes: 4 * 1024 * 1024 })) }],
          isolationLevel: 1,
          maxWaitTime: this.options.maxWaitMs,
          minBytes: 1,
          maxBytes: 16 * 1024 * 1024,
        });
        if (this.stopped) return;
        for (const answer of response.responses) {
          for (const p of answer.partitions) {
            const partition = p.partitionIndex;
            const from = this.next.get(partition);
            if (from === undefined) continue;
            if (p.errorCode === OFFSET_OUT_OF_RANGE) {
              resets.push(partition);
              continue;
            }
            if (STALE_LEADER.has(p.errorCode)) {
              again = true;
              continue;
            }
            if (p.errorCode !== 0) throw new Error(`fetching ${this.topic}/${partition} at offset ${from}: error code ${p.errorCode}`);
            const out: TopicRecord[] = [];
            const topic = this.topic;
            this.next.set(partition, committedRecords(p, from, undefined, (offset, timestamp, r) => out.push({ topic, partition, offset, timestamp, key: r.key, value: r.value, headers: r.headers })));
            if (out.length > 0) this.options.deliver(out);
          }
        }
      }),
    );
    if (resets.length > 0) for (const [p, offset] of await this.ends(resets)) this.next.set(p, offset);
    if (again) throw new Error(`the leader of a partition of ${this.topic} moved`);
    return false;
  }

  /** Where the next fetch starts, per partition: past every record delivered and every transaction marker read. */
  get positions(): ReadonlyMap<number, bigint> {
    return this.next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
