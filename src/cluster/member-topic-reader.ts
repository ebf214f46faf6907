import type { SourceContext } from '../connectors/source.js';
import { wait } from '../connectors/shared/wait.js';
import type { ClusterMember } from './member.js';
import type { TopicFetcher, TopicRecord } from './topic-fetcher.js';

type Bytes = TopicRecord;

/** Records fetched but not yet handed out, above which fetching pauses (backpressure). */
const HIGH_WATER = 20_000;

/**
 * What every source of a member shares: the records of one topic's partitions that the
 * group gives this member, fetched for one attempt from the group's committed offsets
 * (`TopicFetcher`). It keeps the next offset per partition (what a checkpoint commits),
 * and after the position for checkpoint n is taken hands out nothing until n is committed
 * (the member's commit gate).
 */
export class MemberTopicReader {
  private fetcher: TopicFetcher | undefined;
  /** Records fetched and not yet handed out, as the fetcher delivered them (one array per partition and fetch). */
  private chunks: Bytes[][] = [];
  private queued = 0;
  private failure: unknown;
  private readonly next = new Map<number, number>();
  private gated: Promise<void> | undefined;

  constructor(
    private readonly member: ClusterMember,
    readonly topic: string,
    private readonly fallback: 'earliest' | 'latest',
    private readonly ctx: SourceContext,
  ) {}

  /** The member's attempt this reader reads for. */
  private attempt = 0;

  async open(): Promise<void> {
    this.attempt = this.member.attemptNumber;
    this.fetcher = await this.member.fetch(this.topic, {
      reset: this.fallback,
      maxWaitMs: Math.max(10, Math.min(this.ctx.maxPollWaitMs, 100)),
      full: () => this.queued >= HIGH_WATER,
      deliver: (records) => {
        this.chunks.push(records);
        this.queued += records.length;
      },
      fail: (e) => (this.failure ??= e),
    });
  }

  /** The partitions this reader owns in the running attempt. */
  get partitions(): readonly number[] {
    return this.member.partitionsOf(this.topic);
  }

  /**
   * The messages that arrived since the last call, of this member's partitions, each
   * once. Waits (at most the poll wait) when there are none or while a checkpoint is being
   * committed. Throws CLUSTER_REBALANCE when the group moved this member's partitions.
   */
  async take(): Promise<Bytes[]> {
    this.member.check();
    if (this.failure !== undefined) throw this.failure;
    if (this.gated) {
      const open = await Promise.race([this.gated.then(() => true), wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal).then(() => false)]);
      if (!open) return [];
      this.gated = undefined;
      this.member.check();
    }
    if (this.queued === 0) {
      await wait(this.ctx.clock, Math.min(this.ctx.maxPollWaitMs, 50), this.ctx.signal);
      if (this.queued === 0) return [];
    }
    const batch = this.nextBatch(this.ctx.maxBatchSize);
    // The fetcher reads only this attempt's partitions, each in offset order.
    for (const m of batch) this.next.set(m.partition, Number(m.offset) + 1);
    return batch;
  }

  /** Up to `max` records from the front of the queue: whole chunks while they fit, else a piece of the first (its rest is not copied). */
  private nextBatch(max: number): Bytes[] {
    const first = this.chunks[0]!;
    let batch: Bytes[];
    if (first.length - this.head > max) {
      batch = first.slice(this.head, this.head + max);
      this.head += max;
    } else {
      batch = this.head === 0 ? first : first.slice(this.head);
      this.chunks.shift();
      this.head = 0;
      while (this.chunks.length > 0 && batch.length + this.chunks[0]!.length <= max) batch = batch.concat(this.chunks.shift()!);
    }
    this.queued -= batch.length;
    return batch;
  }
  /** Records of the first chunk already handed out. */
  private head = 0;

  /** Takes the position for checkpoint `checkpointId` and holds reading until the member committed it. */
  snapshot(checkpointId: number): void {
    // Everything fetched was handed out: the position moves past the transaction markers
    // read after the last record too, or a partition read to its end would stay one
    // behind (a lag of 1 for ever, and a wait for it never ends).
    if (this.queued === 0) {
      for (const [p, position] of this.fetcher?.positions ?? []) if (position > BigInt(this.next.get(p) ?? -1)) this.next.set(p, Number(position));
    }
    this.member.notePositions(checkpointId, this.topic, this.next, this.attempt);
    this.gated = this.member.gate(checkpointId);
  }

  /** Messages fetched and not yet handed out (the backlog this member holds). */
  get buffered(): number {
    return this.queued;
  }

  async close(): Promise<void> {
    const fetcher = this.fetcher;
    this.fetcher = undefined;
    this.chunks = [];
    this.queued = 0;
    this.head = 0;
    await fetcher?.stop();
  }
}
