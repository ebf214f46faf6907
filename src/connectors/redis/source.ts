import type { Redis } from 'ioredis';
import { SluiceError } from '../../errors/index.js';
import { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from '../shared/ingest.js';
import type { Format } from '../../formats/format.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { checkRedisConnection, connectRedis } from './client.js';
import type { RedisConnection } from './connection.js';
import { describeTls } from '../shared/describe-tls.js';

/** Options of {@link redisStreamSource}: where Redis is, the stream and its consumer group, decoding and acks. */
export interface RedisStreamSourceOptions<T> extends RedisConnection {
  /** The stream key. */
  stream: string;
  /** The consumer group (created with MKSTREAM if missing). */
  group: string;
  /** This reader's consumer name in the group (default: the step uid). */
  consumer?: string;
  /** Where a new group starts: `'0'` (the whole stream, default) or `'$'` (only new entries). */
  startId?: string;
  /** The entry field that holds the message (default `data`). */
  field?: string;
  /** How the field's value becomes a record (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /** What to do with a message that fails to decode or validate (default 'dead-letter'). */
  onBadRecord?: BadRecordPolicy;
  /**
   * When entries are XACKed: `'barrier'` (default) when a checkpoint barrier snapshots the
   * position; `'checkpoint-complete'` when the runtime reports the checkpoint durable
   * (`SourceReader.notifyCheckpointComplete`, where the runtime calls it).
   */
  ackOn?: 'barrier' | 'checkpoint-complete';
}

/** The source {@link redisStreamSource} returns: unbounded, replayable by entry id, one reader per group. */
export interface RedisStreamSource<T> extends Source<T> {
  readonly kind: 'redis-stream';
  /** Counters across every reader of this source (restarts included). */
  readonly stats: IngestStats;
}

/** A checkpointed position: the id of the last entry handed out. */
export interface RedisStreamPosition {
  readonly lastId: string;
}

/**
 * Reads a Redis stream through a consumer group (XREADGROUP), for Redis Streams
 * producers (XADD). Replayable: the position is the id of the last entry handed out;
 * a restore moves the group back to it (XGROUP SETID) and reads on from there, so the
 * job's at-least-once and exactly-once guarantees hold (entries stay in the stream
 * after XACK unless someone trims them). On a fresh start the reader first takes the
 * entries still pending for its consumer (delivered before, never acknowledged).
 *
 * Acknowledgement: at each checkpoint barrier, XACK up to the previous barrier's position
 * (`ackOn: 'barrier'`, one checkpoint behind), so the group's pending list shrinks as the
 * job checkpoints; an entry
 * acked at a barrier whose checkpoint then fails is still replayed from the stream by
 * the restore. Use one reader per group (parallelism 1): SETID moves the whole group.
 *
 * @example
 * const clicks = redisStreamSource({ stream: 'clicks', group: 'sluice', format: jsonFormat<Click>(), onBadRecord: 'dead-letter' });
 */
export function redisStreamSource<T>(opts: RedisStreamSourceOptions<T>): RedisStreamSource<T> {
  if (!opts || typeof opts.stream !== 'string' || opts.stream === '' || typeof opts.group !== 'string' || opts.group === '') {
    throw new SluiceError('INVALID_ARGUMENT', 'redisStreamSource: stream and group must be non-empty strings');
  }
  if (!opts.format || typeof opts.format.decode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'redisStreamSource: format is required (jsonFormat(), avroFormat(…), …)');
  checkRedisConnection(opts, 'redisStreamSource');
  const policy = checkBadRecordPolicy('redisStreamSource', opts.onBadRecord);
  const stats = newIngestStats();
  return {
    kind: 'redis-stream',
    bounded: false,
    replayable: true,
    stats,
    describe: () => `redis stream ${opts.stream}, group ${opts.group} (${opts.format.name}${describeTls(opts.tls)})`,
    createReader: (ctx) => new RedisStreamReader<T>(opts, ctx, new Decoder(opts.format, policy, ctx, stats)),
  };
}

type Entries = Array<[Buffer, Buffer[] | null]>;

/** The entries of a one-stream XREADGROUP reply: `[[key, entries]]` (RESP2) or `[key, entries]` (a RESP3 map, flattened). */
function entriesOf(reply: unknown): Entries {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (Buffer.isBuffer(reply[0]) || typeof reply[0] === 'string') return (reply[1] as Entries | undefined) ?? [];
  return ((reply[0] as [Buffer, Entries])[1] as Entries | undefined) ?? [];
}

class RedisStreamReader<T> implements SourceReader<T> {
  private redis: Redis | undefined;
  private readonly consumer: string;
  private readonly field: string;
  /** Reading the consumer's own pending entries first ('0'), then new ones ('>'). */
  private cursor: '0' | '>' | string = '0';
  private lastId: string | undefined;
  /** Ids handed out since the last snapshot, and snapshots waiting for their checkpoint. */
  private unacked: string[] = [];
  private awaitingCompletion: string[][] = [];
  private ackFailure: unknown;
  private closed = false;

  constructor(
    private readonly opts: RedisStreamSourceOptions<T>,
    private readonly ctx: SourceContext,
    private readonly decoder: Decoder<T>,
  ) {
    this.consumer = opts.consumer ?? ctx.uid;
    this.field = opts.field ?? 'data';
  }

  async open(): Promise<void> {
    await this.decoder.open();
    const redis = (this.redis = await connectRedis(this.opts, this.ctx.uid, 'source'));
    try {
      await redis.call('XGROUP', 'CREATE', this.opts.stream, this.opts.group, this.opts.startId ?? '0', 'MKSTREAM');
    } catch (e) {
      if (!/BUSYGROUP/.test((e as Error).message)) throw this.failed('creating the group', e);
    }
    const restored = this.ctx.restoredPosition as RedisStreamPosition | undefined;
    if (restored?.lastId) {
      // Replay from the checkpoint: the group delivers again everything after it.
      await redis.call('XGROUP', 'SETID', this.opts.stream, this.opts.group, restored.lastId).catch((e: unknown) => Promise.reject(this.failed('moving the group back', e)));
      this.lastId = restored.lastId;
      this.cursor = '>';
    }
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.ackFailure) throw this.failed('acknowledging', this.ackFailure);
    const redis = this.redis!;
    const block = this.cursor === '>' ? ['BLOCK', String(Math.max(1, this.ctx.maxPollWaitMs))] : [];
    let reply: unknown;
    try {
      reply = (await redis.callBuffer('XREADGROUP', 'GROUP', this.opts.group, this.consumer, 'COUNT', String(Math.max(1, this.ctx.maxBatchSize)), ...block, 'STREAMS', this.opts.stream, this.cursor));
    } catch (e) {
      if (this.closed || this.ctx.signal.aborted) return { values: [] };
      throw this.failed('reading', e);
    }
    const entries = entriesOf(reply);
    if (this.cursor !== '>') {
      // Pending entries: an empty answer means none are left; go on with new ones.
      if (entries.length === 0) {
        this.cursor = '>';
        return this.poll();
      }
      this.cursor = entries[entries.length - 1]![0].toString();
    }
    const ids: string[] = [];
    const raws: Uint8Array[] = [];
    const missing: number[] = [];
    for (const [id, fields] of entries) {
      ids.push(id.toString());
      raws.push(this.fieldOf(fields) ?? (missing.push(raws.length), Buffer.alloc(0)));
    }
    const missingSet = new Set(missing);
    const { values } = await this.decoder.decode(raws, (i) =>
      missingSet.has(i) ? `${this.opts.stream}/${ids[i]} (no field '${this.field}')` : `${this.opts.stream}/${ids[i]}`,
    );
    if (ids.length > 0) {
      this.lastId = ids[ids.length - 1];
      for (const id of ids) this.unacked.push(id);
    }
    return { values };
  }

  private fieldOf(fields: Buffer[] | null): Buffer | undefined {
    if (!fields) return undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString() === this.field) return fields[i + 1];
    return undefined;
  }

  snapshotPosition(): RedisStreamPosition | undefined {
    const ids = this.unacked;
    this.unacked = [];
    this.awaitingCompletion.push(ids);
    // At barriers, ack one checkpoint behind: by the next barrier the previous checkpoint
    // has (almost always) completed, so a restart finds a position that covers the acked ids.
    if (this.opts.ackOn !== 'checkpoint-complete' && this.awaitingCompletion.length > 1) this.ack(this.awaitingCompletion.shift()!);
    return this.lastId === undefined ? undefined : { lastId: this.lastId };
  }

  notifyCheckpointComplete(): void {
    // Checkpoints complete in order, one at a time: every snapshot taken so far is covered.
    const groups = this.awaitingCompletion;
    this.awaitingCompletion = [];
    this.ack(groups.flat());
  }

  /** Sends XACK without holding the barrier; a failure fails the next poll. */
  private ack(ids: string[]): void {
    if (ids.length === 0 || !this.redis) return;
    this.redis.call('XACK', this.opts.stream, this.opts.group, ...ids).catch((e: unknown) => {
      if (!this.closed) this.ackFailure = e;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.decoder.close();
    const r = this.redis;
    this.redis = undefined;
    if (r) await r.quit().catch(() => r.disconnect());
  }

  private failed(doing: string, e: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `redis stream source '${this.ctx.uid}': failed ${doing} ${this.opts.stream} (group ${this.opts.group}): ${(e as Error)?.message ?? String(e)}`, {
      step: this.ctx.uid,
      cause: e,
    });
  }
}
