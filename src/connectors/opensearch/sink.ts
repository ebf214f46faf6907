import { SluiceError, describeRecord } from '../../errors/index.js';
import { resolveSecret, scrubSecrets, type Secret } from '../../errors/secret.js';
import { exponentialBackoff, type RetryPolicy } from '../../resilience/retry.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { OpenSearchHttp, type BulkAction } from './bulk.js';
import { TimeIndices } from './time-indices.js';

/** Options of {@link openSearchSink}. */
export interface OpenSearchSinkOptions<T> {
  /** The cluster's HTTP address (default `http://127.0.0.1:9200`). */
  url?: string;
  /** User name for HTTP basic authentication (the security plugin's). */
  username?: string;
  /** Password, by value or by reference (`{ env: 'OPENSEARCH_PASSWORD' }`). */
  password?: Secret;
  /** The index; with `indexPeriod`, the prefix of the time-based indices. Lower case, as OpenSearch requires. */
  index: string;
  /** A record's document id: writing a record again replaces its document (idempotence). */
  id: (value: T) => string;
  /** The document of a record (default: the record itself), serialised as JSON. */
  document?: (value: T) => unknown;
  /** Records that delete their document (by id) instead of writing it. */
  isDelete?: (value: T) => boolean;
  /**
   * Time-based indices: one index per period of the records' event time, named
   * `<index>-YYYY.MM.DD` (whole days) or `<index>-YYYY.MM.DD-HH.mm` (periods that divide a
   * day). Every record then needs an event timestamp.
   */
  indexPeriod?: Duration;
  /**
   * Index lifecycle (with `indexPeriod`): an index whose period ended more than this long
   * before now (the job's clock) is deleted, when the writer opens and then at most once a
   * minute, at checkpoints and at the end.
   */
  retention?: Duration;
  /** Actions per `_bulk` request (default 1000). */
  batchSize?: number;
  /** How requests and items refused with 429/502/503/504, or not answered, are tried again (default: exponential from 100 ms to 10 s, 8 attempts). */
  retry?: RetryPolicy;
  /** How long one request may take (default 30 s). */
  timeout?: Duration;
}

/** The sink {@link openSearchSink} returns: bulk writes by document id, exactly-once by idempotence. */
export interface OpenSearchSink<T> extends Sink<T> {
  readonly kind: 'opensearch';
}

const RETENTION_EVERY_MS = 60_000;

/**
 * Writes records as documents into OpenSearch (or Elasticsearch, whose `_bulk` API is the
 * same) with the `_bulk` API, `batchSize` actions a request, each document under its id.
 *
 * Guarantee: exactly-once by idempotence. At each checkpoint barrier (`preCommit`) what
 * was buffered since the last one is written and acknowledged (a refresh makes it
 * searchable, by the index's refresh interval); a replay after a restore writes the same
 * ids again, replacing the documents with the same ones. Without exactly-once delivery,
 * documents are also written whenever `batchSize` are buffered. Within a request the last
 * record of an id wins, as writing them in order would.
 *
 * Failures: a request or item refused with 429/5xx, or not answered, is tried again on the
 * `retry` policy; a document the index refuses (a mapping conflict, a malformed field)
 * fails the job with BAD_RECORD naming its id and the server's reason.
 *
 * Index lifecycle: with `indexPeriod` and `retention`, the sink keeps time-based indices
 * and deletes those past the retention (whole indices: no delete-by-query).
 *
 * @example
 * events.sinkTo(openSearchSink<Event>({ index: 'events', id: (e) => e.id, indexPeriod: '1d', retention: '30d' }), { uid: 'search' });
 */
export function openSearchSink<T>(opts: OpenSearchSinkOptions<T>): OpenSearchSink<T> {
  const who = 'openSearchSink';
  if (!opts || typeof opts.index !== 'string' || typeof opts.id !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${who}: index and id are required`);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(opts.index)) throw new SluiceError('INVALID_ARGUMENT', `${who}: index ${JSON.stringify(opts.index)} must be lower-case letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'`);
  for (const [k, f] of [['document', opts.document], ['isDelete', opts.isDelete]] as const) {
    if (f !== undefined && typeof f !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${who}: ${k} must be a function, got ${typeof f}`);
  }
  const batchSize = opts.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: batchSize must be a positive integer, got ${batchSize}`);
  const indices = opts.indexPeriod === undefined ? undefined : new TimeIndices(opts.index, toMillis(opts.indexPeriod, `${who} indexPeriod`), who);
  if (opts.retention !== undefined && !indices) throw new SluiceError('INVALID_ARGUMENT', `${who}: retention deletes whole time-based indices, so it needs indexPeriod`);
  const retention = opts.retention === undefined ? undefined : toMillis(opts.retention, `${who} retention`);
  const timeoutMs = toMillis(opts.timeout ?? '30s', `${who} timeout`);
  return {
    kind: 'opensearch',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `opensearch ${opts.index}${indices ? `-<period of ${indices.periodMs} ms>` : ''}, ${batchSize} actions a bulk request${retention !== undefined ? `, retention ${retention} ms` : ''}`,
    createWriter: (ctx) => new OpenSearchWriter<T>(opts, ctx, batchSize, indices, retention, timeoutMs),
  };
}

class OpenSearchWriter<T> implements SinkWriter<T> {
  private http!: OpenSearchHttp;
  private readonly retry: RetryPolicy;
  private actions: BulkAction[] = [];
  private password = '';
  private lastRetention = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: OpenSearchSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly batchSize: number,
    private readonly indices: TimeIndices | undefined,
    private readonly retention: number | undefined,
    private readonly timeoutMs: number,
  ) {
    this.retry = opts.retry ?? exponentialBackoff({ initial: '100ms', max: '10s', maxAttempts: 8 });
  }

  private get where(): string {
    return `opensearch sink '${this.ctx.uid}' (${this.opts.index})`;
  }

  async open(): Promise<void> {
    if (this.opts.password !== undefined) this.password = await resolveSecret(this.opts.password, `${this.where}: password`);
    const auth = this.opts.username !== undefined ? { username: this.opts.username, password: this.password } : undefined;
    this.http = new OpenSearchHttp((this.opts.url ?? 'http://127.0.0.1:9200').replace(/\/+$/, ''), this.timeoutMs, auth);
    await this.applyRetention(true);
  }

  write(values: T[], timestamps: number[]): Promise<void> | void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const id = this.opts.id(v);
      if (typeof id !== 'string' || id === '') throw new SluiceError('BAD_RECORD', `${this.where}: id() returned ${describeRecord(id)} for record ${describeRecord(v)}; a document id is a non-empty string`, { step: this.ctx.uid });
      let index = this.opts.index;
      if (this.indices) {
        const t = timestamps[i]!;
        if (!Number.isFinite(t)) throw new SluiceError('BAD_RECORD', `${this.where}: record ${describeRecord(v)} has no event timestamp, and time-based indices (indexPeriod) are named by it`, { step: this.ctx.uid, hint: 'Give the source a timestamp (a WatermarkStrategy with a timestamp assigner), or drop indexPeriod.' });
        index = this.indices.indexOf(t);
      }
      if (this.opts.isDelete?.(v) === true) {
        this.actions.push({ index, id });
        continue;
      }
      const doc = this.opts.document ? this.opts.document(v) : v;
      const source = JSON.stringify(doc);
      if (source === undefined || typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
        throw new SluiceError('BAD_RECORD', `${this.where}: the document of record ${describeRecord(v)} is ${describeRecord(doc)}; a document is a JSON object`, { step: this.ctx.uid });
      }
      this.actions.push({ index, id, source });
    }
    if (!this.ctx.transactional && this.actions.length >= this.batchSize) return this.send();
  }

  /** Sends what is buffered, `batchSize` actions a request, the last action per document. */
  private async send(): Promise<void> {
    const latest = new Map<string, BulkAction>();
    for (const a of this.actions) {
      const k = `${a.index}\u0000${a.id}`;
      latest.delete(k);
      latest.set(k, a);
    }
    this.actions = [];
    const all = [...latest.values()];
    for (let i = 0; i < all.length; i += this.batchSize) {
      let chunk = all.slice(i, i + this.batchSize);
      for (let attempt = 1; chunk.length > 0; attempt++) {
        let outcome;
        try {
          outcome = await this.http.bulk(chunk);
        } catch (e) {
          if ((e as { retryable?: boolean }).retryable !== true || !this.retry.retryOnError(e) || attempt >= this.retry.maxAttempts) throw this.failed(`writing (attempt ${attempt})`, e);
          await this.ctx.clock.sleep(this.retry.delayMs(attempt));
          continue;
        }
        if (outcome.failed) {
          const { action, status, reason } = outcome.failed;
          throw new SluiceError('BAD_RECORD', `${this.where}: index ${action.index} refused document ${JSON.stringify(action.id)} (HTTP ${status}): ${reason}`, { step: this.ctx.uid, detail: action.source?.slice(0, 500) });
        }
        chunk = outcome.retry;
        if (chunk.length > 0) {
          if (attempt >= this.retry.maxAttempts) throw this.failed('writing', new Error(`${chunk.length} document(s) still refused as busy after ${attempt} attempts`));
          await this.ctx.clock.sleep(this.retry.delayMs(attempt));
        }
      }
    }
  }

  /** Deletes the time-based indices past the retention; at most once a minute unless `force`. */
  private async applyRetention(force: boolean): Promise<void> {
    if (!this.indices || this.retention === undefined) return;
    const now = this.ctx.clock.now();
    if (!force && now - this.lastRetention < RETENTION_EVERY_MS) return;
    this.lastRetention = now;
    try {
      const expired = this.indices.expired(await this.http.indices(`${this.opts.index}-*`), now - this.retention);
      for (const index of expired) await this.http.deleteIndex(index);
    } catch (e) {
      throw this.failed('deleting indices past the retention', e);
    }
  }

  /** At a barrier: everything since the last one, acknowledged (see openSearchSink). */
  async preCommit(checkpointId: number): Promise<{ checkpointId: number }> {
    await this.send();
    await this.applyRetention(false);
    return { checkpointId };
  }

  /** Written at preCommit already (idempotent by document id). */
  async commit(): Promise<void> {}

  /** Nothing is left open between preCommit and commit, so nothing to finish or abort. */
  async recover(): Promise<void> {}

  async flush(): Promise<void> {
    await this.send();
    await this.applyRetention(false);
  }

  async close(): Promise<void> {}

  private failed(doing: string, e: unknown): SluiceError {
    if (e instanceof SluiceError) return e;
    const reason = scrubSecrets((e as Error)?.message ?? String(e), this.password ? [this.password] : []);
    return new SluiceError('SINK_FAILED', `${this.where}: failed ${doing}: ${reason}`, { step: this.ctx.uid });
  }
}
