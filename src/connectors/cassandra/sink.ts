import type { Client } from 'cassandra-driver';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { resolveSecret, scrubSecrets, type Secret } from '../../errors/secret.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';
import { loadOptional } from '../shared/optional-client.js';
import { ReplicaGrouper } from './replicas.js';

/** Options of {@link cassandraSink}. */
export interface CassandraSinkOptions<T> {
  /** Contact points, `'host:port'` (default `['127.0.0.1:9042']`). */
  contactPoints?: readonly string[];
  /** The data center the driver's load balancing prefers (default `'datacenter1'`, a single node's). */
  localDataCenter?: string;
  /** User name, when the cluster has authentication on. */
  username?: string;
  /** Password, by value or by reference (`{ env: 'CASSANDRA_PASSWORD' }`). */
  password?: Secret;
  /** The keyspace of the table. */
  keyspace: string;
  /** The table (it must exist). Its primary key comes from the cluster's schema: every key column must be among `columns`. */
  table: string;
  /** The columns written, in order. */
  columns: readonly string[];
  /** A record's values for `columns`, in the same order (bigint and varint columns take bigints); any other length fails the job with BAD_RECORD. */
  row: (value: T) => readonly unknown[];
  /**
   * Records that delete their row instead of writing it (a changelog's deletes): the sink
   * writes `DELETE … WHERE <primary key>` for them, from the key columns of `row`.
   */
  isDelete?: (value: T) => boolean;
  /** Retention: rows expire this long after they are written (`USING TTL`, whole seconds, at least 1 s). Default: never. */
  ttl?: Duration;
  /** Statements per UNLOGGED batch (default 100). */
  batchSize?: number;
  /** Batches in flight at once (default 16). */
  concurrency?: number;
}

/** The sink {@link cassandraSink} returns: batched upserts by primary key, exactly-once by idempotence. */
export interface CassandraSink<T> extends Sink<T> {
  readonly kind: 'cassandra';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Writes rows into an Apache Cassandra table: prepared `INSERT`s (upserts by primary key)
 * sent as UNLOGGED batches, token-aware: rows are grouped by the replicas that own their
 * partition, so each batch goes to a coordinator that holds every row of it
 * (`replicas.ts`), up to `concurrency` batches at once.
 *
 * Guarantee: exactly-once by idempotence. Rows are sent whenever `batchSize × concurrency`
 * are buffered, and at each checkpoint barrier (`preCommit`) everything written since the
 * last one is acknowledged before the barrier passes; a replay after a restore writes the
 * same rows again, which leaves each primary key as an uninterrupted run leaves it
 * (meanwhile a row may show a newer value than the restored checkpoint's, then converge).
 * Order: each batch carries a write timestamp taken when it is formed, in record order, so
 * the last record of a key wins however batches in flight land; within a batch the last
 * record of a key is kept (writes of one timestamp would be settled by value).
 *
 * Deletes (`isDelete`) write Cassandra tombstones; retention is `ttl` (Cassandra's
 * per-write TTL: expired rows vanish without a job).
 *
 * @example
 * totals.sinkTo(cassandraSink({ keyspace: 'shop', table: 'totals', columns: ['user_id', 'total'], row: (t) => [t.key, t.value], ttl: '30d' }), { uid: 'totals' });
 */
export function cassandraSink<T>(opts: CassandraSinkOptions<T>): CassandraSink<T> {
  const who = 'cassandraSink';
  if (!opts || !Array.isArray(opts.columns) || opts.columns.length === 0 || typeof opts.row !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: keyspace, table, columns and row are required`);
  }
  for (const [what, name] of [['keyspace', opts.keyspace], ['table', opts.table], ...opts.columns.map((c) => ['column', c] as const)] as const) {
    if (typeof name !== 'string' || !NAME.test(name)) throw new SluiceError('INVALID_ARGUMENT', `${who}: ${what} ${JSON.stringify(name)} must be letters, digits and _ (not starting with a digit)`);
  }
  if (opts.isDelete !== undefined && typeof opts.isDelete !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${who}: isDelete must be a function, got ${typeof opts.isDelete}`);
  const batchSize = opts.batchSize ?? 100;
  const concurrency = opts.concurrency ?? 16;
  for (const [k, v] of [['batchSize', batchSize], ['concurrency', concurrency]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: ${k} must be a positive integer, got ${String(v)}`);
  }
  let ttl: number | undefined;
  if (opts.ttl !== undefined) {
    ttl = Math.round(toMillis(opts.ttl, `${who} ttl`) / 1000);
    if (ttl < 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: ttl must be at least 1s (Cassandra counts TTLs in whole seconds), got ${String(opts.ttl)}`);
  }
  const plan: WritePlan = { batchSize, concurrency, ttl };
  return {
    kind: 'cassandra',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `cassandra upserts into ${opts.keyspace}.${opts.table}, token-aware batches of ${batchSize}${ttl !== undefined ? `, ttl ${ttl}s` : ''}`,
    createWriter: (ctx) => new CassandraWriter<T>(opts, ctx, plan),
  };
}

interface WritePlan {
  readonly batchSize: number;
  readonly concurrency: number;
  readonly ttl: number | undefined;
}

/** A buffered record: its row, and whether it deletes the row. */
interface Pending {
  readonly row: readonly unknown[];
  readonly del: boolean;
}

/** One UNLOGGED batch, with the write timestamp it was given when it was formed. */
interface Batch {
  readonly statements: Array<{ query: string; params: unknown[] }>;
  readonly timestamp: unknown;
}

class CassandraWriter<T> implements SinkWriter<T> {
  private client: Client | undefined;
  private grouper: ReplicaGrouper | undefined;
  private pending: Pending[] = [];
  /** Where each primary-key column is in a row (from the table's schema, when the writer opens). */
  private keyIndexes: number[] = [];
  private insert = '';
  private remove = '';
  private password = '';
  /** Batches formed and not yet sent, in order. */
  private queue: Batch[] = [];
  private running = 0;
  private failure: SluiceError | undefined;
  /** Called whenever a batch settles: writes waiting for room, drains waiting for the end. */
  private settled: Array<() => void> = [];
  /** The driver's write-timestamp policy (monotonic microseconds): see `dispatch`. */
  private nextTimestamp: () => unknown = () => undefined;

  constructor(
    private readonly opts: CassandraSinkOptions<T>,
    private readonly ctx: SinkContext,
    private readonly plan: WritePlan,
  ) {}

  private get where(): string {
    return `cassandra sink '${this.ctx.uid}' (${this.opts.keyspace}.${this.opts.table})`;
  }

  async open(): Promise<void> {
    const driver = await loadOptional('cassandra-driver', 'the Cassandra sink', () => import('cassandra-driver'));
    const { Client, auth } = driver.default ?? driver;
    if (this.opts.password !== undefined) this.password = await resolveSecret(this.opts.password, `${this.where}: password`);
    const client = new Client({
      contactPoints: [...(this.opts.contactPoints ?? ['127.0.0.1:9042'])],
      localDataCenter: this.opts.localDataCenter ?? 'datacenter1',
      // bigint and varint columns take JavaScript bigints (numbers too).
      encoding: { useBigIntAsLong: true, useBigIntAsVarint: true },
      ...(this.opts.username !== undefined ? { authProvider: new auth.PlainTextAuthProvider(this.opts.username, this.password) } : {}),
    });
    try {
      await client.connect();
      const table = await client.metadata.getTable(this.opts.keyspace, this.opts.table);
      if (!table) throw new SluiceError('SINK_FAILED', `${this.where}: the table does not exist`, { step: this.ctx.uid, hint: 'Create the table (and keyspace) before the job starts.' });
      const cols = this.opts.columns;
      const key = [...table.partitionKeys, ...table.clusteringKeys].map((c) => c.name);
      const missing = key.filter((k) => !cols.includes(k));
      if (missing.length > 0) {
        throw new SluiceError('INVALID_ARGUMENT', `${this.where}: the primary key column(s) ${missing.join(', ')} are not among the columns (${cols.join(', ')})`, { step: this.ctx.uid });
      }
      this.keyIndexes = key.map((k) => cols.indexOf(k));
      const name = `${this.opts.keyspace}.${this.opts.table}`;
      this.insert = `INSERT INTO ${name} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})${this.plan.ttl !== undefined ? ` USING TTL ${this.plan.ttl}` : ''}`;
      this.remove = `DELETE FROM ${name} WHERE ${key.map((k) => `${k} = ?`).join(' AND ')}`;
      const Encoder = (driver as unknown as { Encoder: ConstructorParameters<typeof ReplicaGrouper>[4] }).Encoder ?? (driver.default as unknown as { Encoder: ConstructorParameters<typeof ReplicaGrouper>[4] }).Encoder;
      const partition = table.partitionKeys.map((c) => ({ name: c.name, type: c.type }));
      this.grouper = new ReplicaGrouper(client, this.opts.keyspace, partition, partition.map((c) => cols.indexOf(c.name)), Encoder);
      const generator = (client as unknown as { options: { policies: { timestampGeneration?: { next(c: unknown): unknown } } } }).options.policies.timestampGeneration;
      if (generator) this.nextTimestamp = () => generator.next(client);
    } catch (e) {
      await client.shutdown().catch(() => {});
      throw e instanceof SluiceError ? e : this.failed('connecting', e);
    }
    this.client = client;
  }

  write(values: T[]): Promise<void> | void {
    if (this.failure) throw this.failure;
    const n = this.opts.columns.length;
    for (const v of values) {
      const row = this.opts.row(v);
      if (!Array.isArray(row) || row.length !== n) {
        throw new SluiceError('BAD_RECORD', `${this.where}: row() returned ${Array.isArray(row) ? `${row.length} values` : typeof row} for record ${describeRecord(v)}; expected ${n} (${this.opts.columns.join(', ')})`, { step: this.ctx.uid });
      }
      this.pending.push({ row, del: this.opts.isDelete?.(v) === true });
    }
    if (this.pending.length >= this.plan.batchSize * this.plan.concurrency) this.dispatch();
    // Backpressure: hold the pipeline while more than one round of batches waits.
    if (this.queue.length > this.plan.concurrency) return this.until(() => this.queue.length <= this.plan.concurrency);
  }

  /**
   * Forms what is buffered into token-aware batches (the last record per primary key) and
   * queues them. Each batch gets its write timestamp here, from the driver's monotonic
   * policy, in the order the records came: batches in flight at once may land in any
   * order, and Cassandra keeps the write of the greatest timestamp, so a key written in
   * two of them ends as the later record says. Within one batch all writes share a
   * timestamp, hence one record per key.
   */
  private dispatch(): void {
    if (this.pending.length === 0) return;
    const latest = new Map<string, Pending>();
    for (const p of this.pending) {
      const k = JSON.stringify(this.keyIndexes.map((i) => p.row[i]), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
      latest.delete(k);
      latest.set(k, p);
    }
    this.pending = [];
    const timestamp = this.nextTimestamp();
    for (const group of this.grouper!.group(latest.values(), (p) => p.row).values()) {
      for (let i = 0; i < group.length; i += this.plan.batchSize) this.queue.push({ statements: group.slice(i, i + this.plan.batchSize).map((p) => this.statement(p)), timestamp });
    }
    this.pump();
  }

  /** Sends queued batches while fewer than `concurrency` are in flight. */
  private pump(): void {
    const client = this.client!;
    while (this.running < this.plan.concurrency && this.queue.length > 0 && !this.failure) {
      const { statements, timestamp } = this.queue.shift()!;
      this.running++;
      const options = { prepare: true, ...(timestamp !== undefined ? { timestamp: timestamp as number } : {}) };
      const sent = statements.length === 1 ? client.execute(statements[0]!.query, statements[0]!.params, options) : client.batch(statements, { ...options, logged: false });
      sent.then(
        () => this.done(),
        (e: unknown) => {
          this.failure ??= this.failed('writing', e);
          this.done();
        },
      );
    }
  }

  private done(): void {
    this.running--;
    this.pump();
    const waiting = this.settled;
    this.settled = [];
    for (const w of waiting) w();
  }

  /** Resolves once `ready()` holds or a batch failed (then rejects with the failure). */
  private async until(ready: () => boolean): Promise<void> {
    while (!ready() && !this.failure) await new Promise<void>((resolve) => this.settled.push(resolve));
    if (this.failure) throw this.failure;
  }

  /** Writes everything buffered and waits for every batch to be acknowledged. */
  private async drain(): Promise<void> {
    if (this.failure) throw this.failure;
    this.dispatch();
    await this.until(() => this.queue.length === 0 && this.running === 0);
  }

  private statement(p: Pending): { query: string; params: unknown[] } {
    return p.del ? { query: this.remove, params: this.keyIndexes.map((i) => p.row[i]) } : { query: this.insert, params: p.row as unknown[] };
  }

  /** At a barrier: everything written since the last one, acknowledged (see cassandraSink). */
  async preCommit(checkpointId: number): Promise<{ checkpointId: number }> {
    await this.drain();
    return { checkpointId };
  }

  /** Written at preCommit already (idempotent upserts). */
  async commit(): Promise<void> {}

  /** Nothing is left open between preCommit and commit, so nothing to finish or abort. */
  async recover(): Promise<void> {}

  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    // Batches in flight settle before the connection goes (a crash's are simply lost: the replay writes them again).
    await this.until(() => this.running === 0).catch(() => {});
    this.queue = [];
    const c = this.client;
    this.client = undefined;
    if (c) await c.shutdown().catch(() => {});
  }

  private failed(doing: string, e: unknown): SluiceError {
    const reason = scrubSecrets((e as Error)?.message ?? String(e), this.password ? [this.password] : []);
    return new SluiceError('SINK_FAILED', `${this.where}: failed ${doing}: ${reason}`, { step: this.ctx.uid, cause: e });
  }
}
