import { SluiceError } from '../../errors/index.js';
import { exponentialBackoff, type RetryPolicy } from '../../resilience/retry.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { checkTime, inPrecision, pointLine, precisionFor, type InfluxPoint, type InfluxPrecision } from './line-protocol.js';
import { InfluxHttp } from './http.js';

/** A retention policy the sink declares on its database (InfluxDB 1.x): created, or altered to match. */
export interface InfluxRetentionPolicy {
  /** Its name; the sink writes into it. */
  name: string;
  /** How long points are kept (InfluxDB's minimum is 1h); `'INF'` keeps them forever. */
  duration: Duration | 'INF';
  /** Shard group duration (default: the server's choice for `duration`). */
  shardDuration?: Duration;
  /** Replication factor (default 1; a single server has one copy). */
  replication?: number;
  /** Make it the database's default policy (default false). */
  default?: boolean;
}

/** Options of {@link influxSink}. */
export interface InfluxSinkOptions<T> {
  /** Base URL of the server (default `http://127.0.0.1:8086`). */
  url?: string;
  /** The database; created when missing. */
  database: string;
  /** The point a record becomes. */
  point: (value: T) => InfluxPoint;
  /** The retention policy to write into, declared here (created or altered when the writer opens). Default: the database's default policy. */
  retentionPolicy?: InfluxRetentionPolicy;
  /** Precision of the timestamps sent (default `'auto'`: per request, the coarsest that writes every time exactly). */
  precision?: InfluxPrecision | 'auto';
  /** Points per request (default 5000; InfluxDB suggests 5,000–10,000). */
  batchSize?: number;
  /** Retries of a request answered 429 or 503, or that could not connect (default: exponential backoff from 100 ms up to 10 s, 8 attempts in all). `Retry-After` is honoured. */
  retry?: RetryPolicy;
  /** How long one request may take (default 30 s). */
  timeout?: Duration;
  /** Credentials, when the server has auth enabled. */
  username?: string;
  password?: string;
}

/** The sink {@link influxSink} returns. */
export interface InfluxSink<T> extends Sink<T> {
  readonly kind: 'influxdb';
}

/**
 * Writes points to InfluxDB 1.x over HTTP (the `/write` API, line protocol), `batchSize`
 * points per request, with the timestamps' precision chosen per request (whole seconds go
 * as seconds). A request answered 429 (too many requests) or 503 (busy, or hinted handoff
 * full), or that could not connect, is retried with backoff; any other refusal fails the
 * job with the server's message (a 400 names the point it could not take).
 *
 * Guarantee: exactly-once by idempotence. InfluxDB identifies a point by measurement, tag
 * set and time; writing it again replaces its fields with the same values. With exactly-once
 * delivery, points are sent at each checkpoint barrier, so a replay after a restore rewrites
 * only points that were already there.
 *
 * @example
 * readings.sinkTo(influxSink<Reading>({
 *   database: 'plant',
 *   retentionPolicy: { name: 'thirty_days', duration: '30d' },
 *   point: (r) => ({ measurement: 'temperature', tags: { sensor: r.sensor }, fields: { celsius: r.celsius }, time: r.at }),
 * }), { uid: 'temperatures' });
 */
export function influxSink<T>(opts: InfluxSinkOptions<T>): InfluxSink<T> {
  const who = 'influxSink';
  if (!opts || typeof opts.database !== 'string' || opts.database === '' || typeof opts.point !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: database and point are required`);
  }
  const batchSize = opts.batchSize ?? 5000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: batchSize must be a positive integer, got ${batchSize}`);
  const precision = opts.precision ?? 'auto';
  if (!['auto', 'ns', 'u', 'ms', 's', 'm', 'h'].includes(precision)) throw new SluiceError('INVALID_ARGUMENT', `${who}: precision must be auto, ns, u, ms, s, m or h, got ${String(precision)}`);
  const rp = opts.retentionPolicy;
  if (rp !== undefined) {
    if (typeof rp.name !== 'string' || rp.name === '') throw new SluiceError('INVALID_ARGUMENT', `${who}: the retention policy needs a name`);
    if (rp.duration !== 'INF') {
      const ms = toMillis(rp.duration, `${who} retention policy duration`);
      if (ms < 3_600_000) throw new SluiceError('INVALID_ARGUMENT', `${who}: retention policy ${rp.name} keeps ${ms} ms; InfluxDB's shortest retention is 1h`);
    }
  }
  const timeoutMs = toMillis(opts.timeout ?? '30s', `${who} timeout`);
  return {
    kind: 'influxdb',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `influxdb ${opts.database}${rp ? `.${rp.name}` : ''}, ${batchSize} points a request, precision ${precision}`,
    createWriter: (ctx) => new InfluxWriter<T>(opts, ctx, batchSize, precision, timeoutMs),
  };
}

class InfluxWriter<T> implements SinkWriter<T> {
  private lines: string[] = [];
  private times: (number | bigint)[] = [];
  private readonly http: InfluxHttp;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly opts: InfluxSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly batchSize: number,
    private readonly precision: InfluxPrecision | 'auto',
    timeoutMs: number,
  ) {
    this.http = new InfluxHttp(opts.url ?? 'http://127.0.0.1:8086', timeoutMs, opts.username, opts.password);
    this.retry = opts.retry ?? exponentialBackoff({ initial: '100ms', max: '10s', maxAttempts: 8 });
  }

  async open(): Promise<void> {
    const db = quoteIdent(this.opts.database);
    try {
      await this.withRetries('creating the database', () => this.http.query(`CREATE DATABASE ${db}`));
      const rp = this.opts.retentionPolicy;
      if (rp) {
        const existing = await this.withRetries('reading the retention policies', () => this.http.query(`SHOW RETENTION POLICIES ON ${db}`));
        const names = (existing.results?.[0]?.series?.[0]?.values ?? []).map((row) => row[0]);
        const duration = rp.duration === 'INF' ? 'INF' : `${toMillis(rp.duration)}ms`;
        const shard = rp.shardDuration !== undefined ? ` SHARD DURATION ${toMillis(rp.shardDuration)}ms` : '';
        const verb = names.includes(rp.name) ? 'ALTER' : 'CREATE';
        await this.withRetries('declaring the retention policy', () =>
          this.http.query(`${verb} RETENTION POLICY ${quoteIdent(rp.name)} ON ${db} DURATION ${duration} REPLICATION ${rp.replication ?? 1}${shard}${rp.default ? ' DEFAULT' : ''}`),
        );
      }
    } catch (e) {
      throw this.failed('opening', e);
    }
  }

  write(values: T[]): Promise<void> | void {
    for (const v of values) {
      let line: string;
      let t: number | bigint;
      try {
        const p = this.opts.point(v);
        line = pointLine(p);
        t = checkTime(p.time);
      } catch (e) {
        if (e instanceof SluiceError) throw new SluiceError(e.code, `influxdb sink '${this.ctx.uid}': ${e.message}`, { step: this.ctx.uid, detail: safeJson(v), cause: e });
        throw e;
      }
      this.lines.push(line);
      this.times.push(t);
    }
    if (!this.ctx.transactional && this.lines.length >= this.batchSize) return this.send();
  }

  /** Sends every buffered point, `batchSize` a request. */
  private async send(): Promise<void> {
    const lines = this.lines;
    const times = this.times;
    this.lines = [];
    this.times = [];
    for (let i = 0; i < lines.length; i += this.batchSize) {
      const ts = times.slice(i, i + this.batchSize);
      const precision = this.precision === 'auto' ? precisionFor(ts) : this.precision;
      let body = '';
      for (let j = 0; j < ts.length; j++) body += `${lines[i + j]} ${inPrecision(ts[j]!, precision)}\n`;
      try {
        await this.withRetries('writing points', () => this.http.write(this.opts.database, this.opts.retentionPolicy?.name, precision, body));
      } catch (e) {
        throw this.failed('writing', e);
      }
    }
  }

  /** Calls `f` again after a retryable failure (429, 503, no connection), pausing on the job's clock. */
  private async withRetries<R>(what: string, f: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        const retryable = (e as { retryable?: boolean }).retryable === true && this.retry.retryOnError(e);
        if (!retryable || attempt >= this.retry.maxAttempts) {
          if (retryable) (e as Error).message = `${what}: still failing after ${attempt} attempts: ${(e as Error).message}`;
          throw e;
        }
        const hinted = (e as { retryAfterMs?: number }).retryAfterMs ?? 0;
        await this.ctx.clock.sleep(Math.max(hinted, this.retry.delayMs(attempt)));
      }
    }
  }

  /** Written at the barrier: InfluxDB has no transaction, and rewriting a point is harmless. */
  async preCommit(checkpointId: number): Promise<{ checkpointId: number }> {
    await this.send();
    return { checkpointId };
  }

  async commit(): Promise<void> {}

  async recover(): Promise<void> {}

  async flush(): Promise<void> {
    await this.send();
  }

  async close(): Promise<void> {
    this.lines = [];
    this.times = [];
  }

  private failed(doing: string, e: unknown): SluiceError {
    const status = (e as { status?: number }).status;
    return new SluiceError('SINK_FAILED', `influxdb sink '${this.ctx.uid}': failed ${doing} (${this.opts.database}${status ? `, HTTP ${status}` : ''}): ${(e as Error)?.message ?? String(e)}`, {
      step: this.ctx.uid,
      cause: e,
    });
  }
}

/** An InfluxQL identifier in double quotes. */
function quoteIdent(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

