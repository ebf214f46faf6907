import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { kinesisClient, loadKinesis } from './client.js';
import type { KinesisConnectionOptions } from './connection.js';

/** Options of {@link kinesisSink}: the stream, the partition key, encoding, retries. */
export interface KinesisSinkOptions<T> extends KinesisConnectionOptions {
  /** The stream's name. */
  stream: string;
  /** The partition key of a record (which shard it goes to; order is kept per key). */
  partitionKey: (value: T) => string;
  /** How records become record data (`jsonFormat<T>()`, …). */
  format: Format<T>;
  /** How often the records a PutRecords call did not take are sent again before the sink fails (default 8; with backoff from 50 ms). */
  maxRetries?: number;
  /** Records per PutRecords call (default and most 500). */
  maxBatch?: number;
  /**
   * Keep the order per partition key even when a call refuses some records (default
   * false): each call then holds at most one record per key (fewer records per call when
   * keys repeat). Without it a refused record is sent again after the later records of
   * its key that the call took.
   */
  strictOrder?: boolean;
}

/** The longest prefix of `entries` (at most `max`) in which no partition key repeats. */
function prefixOfDistinctKeys(entries: PutRecordsRequestEntry[], max: number): PutRecordsRequestEntry[] {
  const keys = new Set<string>();
  let n = 0;
  while (n < entries.length && n < max && !keys.has(entries[n]!.PartitionKey!)) keys.add(entries[n++]!.PartitionKey!);
  return entries.slice(0, n);
}

/** The sink {@link kinesisSink} returns: at-least-once. */
export interface KinesisSink<T> extends Sink<T> {
  readonly kind: 'kinesis';
  /** Records written, and records sent again after a partial failure, across writers. */
  readonly stats: { written: number; retried: number };
}

/**
 * Writes records to a Kinesis stream with PutRecords. A call can take some records and
 * refuse others (throughput exceeded); those are sent again, in order, with backoff (with
 * `strictOrder`, each call holds one record per partition key, so a retry never passes
 * a later record of its key). Everything written is acknowledged by the stream at each
 * checkpoint barrier (`preCommit`). Guarantee: at-least-once (Kinesis keeps no ids to
 * drop a record written twice after a restart).
 *
 * @example
 * scores.sinkTo(kinesisSink({ stream: 'scores', partitionKey: (s) => s.user, format: jsonFormat<Score>() }), { uid: 'scores-out' });
 */
export function kinesisSink<T>(opts: KinesisSinkOptions<T>): KinesisSink<T> {
  if (!opts || typeof opts.stream !== 'string' || !opts.stream) throw new SluiceError('INVALID_ARGUMENT', 'kinesisSink: stream must be a non-empty string');
  if (typeof opts.partitionKey !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'kinesisSink: partitionKey must be a function of the record');
  if (!opts.format || typeof opts.format.encode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'kinesisSink: format is required (jsonFormat(), …)');
  if (opts.maxBatch !== undefined && (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1 || opts.maxBatch > 500)) throw new SluiceError('INVALID_ARGUMENT', `kinesisSink: maxBatch must be an integer from 1 to 500, not ${String(opts.maxBatch)}`);
  const stats = { written: 0, retried: 0 };
  return {
    kind: 'kinesis',
    guarantees: ['at-least-once', 'none'],
    stats,
    describe: () => `kinesis PutRecords to ${opts.stream} (${opts.format.name})`,
    createWriter: (ctx) => new KinesisWriter<T>(opts, ctx, stats),
  };
}

class KinesisWriter<T> implements SinkWriter<T> {
  private client: KinesisClient | undefined;
  private sdk: typeof import('@aws-sdk/client-kinesis') | undefined;
  private pending: PutRecordsRequestEntry[] = [];
  private readonly lifecycle: FormatLifecycle;

  constructor(
    private readonly opts: KinesisSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly stats: { written: number; retried: number },
  ) {
    this.lifecycle = new FormatLifecycle(opts.format);
  }

  async open(): Promise<void> {
    this.sdk = await loadKinesis();
    this.client = await kinesisClient(this.opts);
    await this.lifecycle.open();
  }

  async write(values: T[]): Promise<void> {
    for (const v of values) this.pending.push({ Data: this.opts.format.encode(v), PartitionKey: this.opts.partitionKey(v) });
    if (this.pending.length >= (this.opts.maxBatch ?? 500)) await this.send();
  }

  /** Sends everything pending; records refused by a call go again (with those after them of the same keys), with backoff. */
  private async send(): Promise<void> {
    const max = this.opts.maxBatch ?? 500;
    let attempt = 0;
    while (this.pending.length > 0) {
      const batch = this.opts.strictOrder ? prefixOfDistinctKeys(this.pending, max) : this.pending.slice(0, max);
      let result;
      try {
        result = await this.client!.send(new this.sdk!.PutRecordsCommand({ StreamName: this.opts.stream, Records: batch }));
      } catch (e) {
        throw new SluiceError('SINK_FAILED', `kinesis sink '${this.ctx.uid}': PutRecords to ${this.opts.stream} failed: ${(e as Error).message}`, { step: this.ctx.uid, cause: e });
      }
      const again: PutRecordsRequestEntry[] = [];
      let lastError = '';
      (result.Records ?? []).forEach((r, i) => {
        if (r.ErrorCode) {
          lastError = `${r.ErrorCode}: ${r.ErrorMessage ?? ''}`;
          again.push(batch[i]!);
        } else this.stats.written++;
      });
      this.pending = [...again, ...this.pending.slice(batch.length)];
      if (again.length === 0) {
        attempt = 0;
        continue;
      }
      this.stats.retried += again.length;
      if (++attempt > (this.opts.maxRetries ?? 8)) {
        throw new SluiceError('SINK_FAILED', `kinesis sink '${this.ctx.uid}': ${again.length} records refused by ${this.opts.stream} after ${attempt - 1} retries (${lastError})`, {
          hint: 'The stream is over its write throughput: add shards, or slow the job down.',
          step: this.ctx.uid,
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 50 * 2 ** (attempt - 1))));
    }
  }

  /** At a barrier: the stream has taken everything written so far. */
  async preCommit(): Promise<undefined> {
    await this.send();
    return undefined;
  }

  async commit(): Promise<void> {}

  async flush(): Promise<void> {
    await this.send();
  }

  async close(): Promise<void> {
    this.client?.destroy();
    this.client = undefined;
    await this.lifecycle.close();
  }
}
