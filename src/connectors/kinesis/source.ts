import type { KinesisClient, Shard, _Record } from '@aws-sdk/client-kinesis';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from '../shared/ingest.js';
import { wait } from '../shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { kinesisClient, loadKinesis } from './client.js';
import type { KinesisConnectionOptions } from './connection.js';

/** Options of {@link kinesisSource}: the stream, where a fresh start begins, decoding. */
export interface KinesisSourceOptions<T> extends KinesisConnectionOptions {
  /** The stream's name. */
  stream: string;
  /** Where a shard without a checkpointed position begins: `'TRIM_HORIZON'` (default, the oldest record) or `'LATEST'`. */
  startFrom?: 'TRIM_HORIZON' | 'LATEST';
  /** How record data becomes records (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /** What to do with a record that fails to decode or validate (default 'dead-letter'). */
  onBadRecord?: BadRecordPolicy;
  /** How often to list the shards again to find new ones after a reshard (default 10 000 ms; a closed parent triggers it at once). */
  shardDiscoveryMs?: number;
}

/** The source {@link kinesisSource} returns: unbounded, replayable by sequence number. */
export interface KinesisSource<T> extends Source<T> {
  readonly kind: 'kinesis';
  readonly stats: IngestStats;
}

/** A checkpointed position: per shard, the sequence number of the last record handed out, or that the shard is read to its end. */
export interface KinesisPosition {
  readonly shards: Record<string, { readonly seq?: string; readonly done?: boolean }>;
}

/**
 * Reads every shard of a Kinesis stream (AWS SDK v3: ListShards, GetShardIterator,
 * GetRecords). Replayable: each checkpoint keeps, per shard, the sequence number of the
 * last record handed out; a restore reads each shard again AFTER_SEQUENCE_NUMBER, so the
 * job's guarantees hold (exactly-once with a transactional or idempotent sink) as long
 * as the stream's retention keeps the records. Resharding: a child shard is read only
 * once its parents (both, after a merge) are read to their end, so the records of a
 * partition key stay in order across a split or a merge; new shards are found by
 * listing the shards again when a parent closes and every `shardDiscoveryMs`.
 * One reader reads all shards (parallelism 1).
 *
 * @example
 * const clicks = kinesisSource({ stream: 'clicks', region: 'eu-west-1', format: jsonFormat<Click>() });
 */
export function kinesisSource<T>(opts: KinesisSourceOptions<T>): KinesisSource<T> {
  if (!opts || typeof opts.stream !== 'string' || !opts.stream) throw new SluiceError('INVALID_ARGUMENT', 'kinesisSource: stream must be a non-empty string');
  if (!opts.format || typeof opts.format.decode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'kinesisSource: format is required (jsonFormat(), …)');
  if (opts.startFrom !== undefined && opts.startFrom !== 'TRIM_HORIZON' && opts.startFrom !== 'LATEST') throw new SluiceError('INVALID_ARGUMENT', `kinesisSource: startFrom must be 'TRIM_HORIZON' or 'LATEST', not ${String(opts.startFrom)}`);
  const policy = checkBadRecordPolicy('kinesisSource', opts.onBadRecord);
  const stats = newIngestStats();
  return {
    kind: 'kinesis',
    bounded: false,
    replayable: true,
    stats,
    describe: () => `kinesis stream ${opts.stream} (${opts.format.name})`,
    createReader: (ctx) => new KinesisReader<T>(opts, ctx, new Decoder(opts.format, policy, ctx, stats)),
  };
}

interface ShardState {
  readonly shard: Shard;
  seq: string | undefined;
  done: boolean;
  iterator: string | undefined;
}

class KinesisReader<T> implements SourceReader<T> {
  private client: KinesisClient | undefined;
  private sdk: typeof import('@aws-sdk/client-kinesis') | undefined;
  private readonly shards = new Map<string, ShardState>();
  private next = 0;
  private lastDiscovery = 0;
  private rediscover = false;

  constructor(
    private readonly opts: KinesisSourceOptions<T>,
    private readonly ctx: SourceContext,
    private readonly decoder: Decoder<T>,
  ) {}

  async open(): Promise<void> {
    await this.decoder.open();
    this.sdk = await loadKinesis();
    this.client = await kinesisClient(this.opts);
    const restored = this.ctx.restoredPosition as KinesisPosition | undefined;
    await this.discover(restored);
  }

  /** Lists the shards and adds those not known yet (with their restored positions). */
  private async discover(restored?: KinesisPosition): Promise<void> {
    const { ListShardsCommand } = this.sdk!;
    let token: string | undefined;
    try {
      do {
        const r = await this.client!.send(token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: this.opts.stream }));
        for (const shard of r.Shards ?? []) {
          if (this.shards.has(shard.ShardId!)) continue;
          const p = restored?.shards[shard.ShardId!];
          this.shards.set(shard.ShardId!, { shard, seq: p?.seq, done: p?.done ?? false, iterator: undefined });
        }
        token = r.NextToken;
      } while (token);
    } catch (e) {
      throw this.failed('listing the shards of', e);
    }
    this.lastDiscovery = this.ctx.clock.now();
    this.rediscover = false;
  }

  /** A shard is read once the shards it was split or merged from are read to their end (or are gone: trimmed). */
  private readable(s: ShardState): boolean {
    if (s.done) return false;
    for (const parent of [s.shard.ParentShardId, s.shard.AdjacentParentShardId]) {
      if (parent && this.shards.has(parent) && !this.shards.get(parent)!.done) return false;
    }
    return true;
  }

  private async iterator(s: ShardState): Promise<string | undefined> {
    if (s.iterator) return s.iterator;
    const { GetShardIteratorCommand } = this.sdk!;
    const r = await this.client!.send(
      new GetShardIteratorCommand({
        StreamName: this.opts.stream,
        ShardId: s.shard.ShardId,
        ...(s.seq ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: s.seq } : { ShardIteratorType: this.opts.startFrom ?? 'TRIM_HORIZON' }),
      }),
    );
    return (s.iterator = r.ShardIterator);
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.rediscover || this.ctx.clock.now() - this.lastDiscovery >= (this.opts.shardDiscoveryMs ?? 10_000)) await this.discover();
    const active = [...this.shards.values()].filter((s) => this.readable(s));
    // Round robin over the shards that can be read, one GetRecords each, until one gives records.
    for (let tried = 0; tried < active.length; tried++) {
      const s = active[(this.next++ + tried) % active.length]!;
      let records: _Record[];
      try {
        const iterator = await this.iterator(s);
        if (!iterator) {
          s.done = true;
          this.rediscover = true;
          continue;
        }
        const r = await this.client!.send(new this.sdk!.GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, Math.max(1, this.ctx.maxBatchSize)) }));
        records = r.Records ?? [];
        s.iterator = r.NextShardIterator;
        // No next iterator: a closed shard (split or merged) read to its end; its children may start.
        if (!r.NextShardIterator) {
          s.done = true;
          this.rediscover = true;
        }
      } catch (e) {
        throw this.failed(`reading shard ${s.shard.ShardId} of`, e);
      }
      if (records.length === 0) continue;
      const { values, from } = await this.decoder.decode(
        records.map((r) => r.Data!),
        (i) => `${s.shard.ShardId}:${records[i]!.SequenceNumber}`,
      );
      s.seq = records[records.length - 1]!.SequenceNumber;
      const timestamps = from.map((i) => records[i]!.ApproximateArrivalTimestamp?.getTime() ?? Number.NaN);
      return { values, timestamps };
    }
    await wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal);
    return { values: [] };
  }

  snapshotPosition(): KinesisPosition {
    const shards: Record<string, { seq?: string; done?: boolean }> = {};
    for (const [id, s] of this.shards) {
      if (s.done) shards[id] = { done: true };
      else if (s.seq) shards[id] = { seq: s.seq };
    }
    return { shards };
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = undefined;
    await this.decoder.close();
  }

  private failed(doing: string, e: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `kinesis source '${this.ctx.uid}': failed ${doing} stream ${this.opts.stream}: ${(e as Error)?.message ?? String(e)}`, { step: this.ctx.uid, cause: e });
  }
}
