/**
 * Keyed state kept in Apache Cassandra, with a local write-back cache flushed at the
 * checkpoint barrier: the Redis backend's design (`versioned-backend.ts`) on Cassandra
 * tables, through the DataStax Node driver (`cassandra-driver`, an optional peer).
 *
 * ## Layout
 * ```
 * CREATE TABLE <keyspace>.state_records (version text, key_group int, field blob, value blob,
 *   PRIMARY KEY ((version, key_group), field))
 * CREATE TABLE <keyspace>.state_versions (version text PRIMARY KEY, records bigint)
 * ```
 * A partition is one key group of one version (the state registry is key group -1), so a
 * restore of key groups `[from, to]` reads exactly their partitions (rescaling moves no
 * data), and each checkpoint writes new partitions only (versions are immutable: no
 * lightweight transaction is needed for a consistent cut). A version counts once its row
 * in `state_versions` is written, after all its records; the checkpoint's handle, stored
 * by the job's checkpoint on completion, names the chain.
 *
 * ## Token-aware batching
 * Records are written as UNLOGGED batches of one partition each (a single-partition batch
 * is applied atomically by its replica and costs no batch log), of prepared statements,
 * so the driver's token-aware policy sends each batch straight to a replica of its
 * partition; batches stay under Cassandra's 50 KiB batch size limit, and up to
 * `concurrency` (default 32) are in flight.
 *
 * `ensureCassandraStateSchema(client, keyspace)` creates the keyspace (SimpleStrategy,
 * replication 1 unless it exists) and tables.
 *
 * @example
 * import { Client } from 'cassandra-driver';
 * const client = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1' });
 * await ensureCassandraStateSchema(client, 'sluice');
 * const job = new Job({
 *   checkpoints: { interval: '10s' },
 *   stateBackend: ({ uid, clock, maxParallelism }) =>
 *     new CassandraStateBackend({ clock, maxParallelism, client, keyspace: 'sluice', prefix: `orders:${uid}`, path: mkdtempSync(join(tmpdir(), 'sluice-cache-')) }),
 * });
 */
import { SluiceError } from '../../errors/index.js';
import { META_GROUP, VersionedExternalBackend, type ExternalStateBackendOptions, type GroupRecords } from './versioned-backend.js';

/** The driver calls the backend makes: a `cassandra-driver` `Client` fits (no driver type is named here, so the main entry does not depend on it). */
export interface CassandraStateClient {
  /** Runs one statement (the driver's `execute`). */
  execute(query: string, params?: unknown[], options?: { prepare?: boolean; fetchSize?: number; pageState?: string | Buffer }): Promise<{ rows: Array<Record<string, unknown>>; pageState?: string | null }>;
  /** Runs statements as one batch (the driver's `batch`). */
  batch(queries: Array<{ query: string; params: unknown[] }>, options?: { prepare?: boolean; logged?: boolean }): Promise<unknown>;
}

/** Options of {@link CassandraStateBackend}. */
export interface CassandraStateBackendOptions extends ExternalStateBackendOptions {
  /** A connected `cassandra-driver` client; backends may share one. Not shut down by the backend. */
  client: CassandraStateClient;
  /** The keyspace of the tables (see {@link ensureCassandraStateSchema}). */
  keyspace: string;
  /** Batches in flight at once (default 32). */
  concurrency?: number;
}

/** Bytes of records in one batch: under Cassandra's default batch_size_fail_threshold (50 KiB). */
const BATCH_BYTES = 32 * 1024;
const PAGE = 5000;

/**
 * Keyed state in Cassandra behind a local write-back cache (the design is at the top of
 * `state/external/cassandra-backend.ts`).
 *
 * @example
 * const backend = new CassandraStateBackend({ clock, client, keyspace: 'sluice', prefix: 'job:count', path: '/tmp/cache-count' });
 * const handle = await backend.checkpointTo('', 1); // the state as of now, in Cassandra
 */
export class CassandraStateBackend extends VersionedExternalBackend {
  readonly client: CassandraStateClient;
  readonly keyspace: string;
  protected readonly format = 'cassandra-chain' as const;
  protected readonly storeName = 'Cassandra';
  private readonly concurrency: number;

  constructor(options: CassandraStateBackendOptions) {
    if (options?.client === undefined || typeof options.prefix !== 'string' || options.prefix === '' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.keyspace ?? '')) {
      throw new SluiceError('INVALID_ARGUMENT', 'CassandraStateBackend needs a client, a keyspace (letters, digits, _) and a prefix', {
        hint: "Pass { client: new Client({...}), keyspace: 'sluice', prefix: '<job>:<step uid>' } beside clock and path.",
      });
    }
    super(options);
    this.client = options.client;
    this.keyspace = options.keyspace;
    this.concurrency = options.concurrency ?? 32;
  }

  protected async writeGroups(version: string, groups: Map<number, GroupRecords>): Promise<number> {
    const insert = `INSERT INTO ${this.keyspace}.state_records (version, key_group, field, value) VALUES (?, ?, ?, ?)`;
    const batches: Array<Array<{ query: string; params: unknown[] }>> = [];
    for (const [group, records] of groups) {
      let batch: Array<{ query: string; params: unknown[] }> = [];
      let bytes = 0;
      for (const [field, value] of records) {
        const v = value ?? Buffer.alloc(0); // an empty value is a deletion
        if (bytes + field.length + v.length > BATCH_BYTES && batch.length > 0) {
          batches.push(batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ query: insert, params: [version, group, field, v] });
        bytes += field.length + v.length + 32;
      }
      if (batch.length > 0) batches.push(batch);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await this.client.batch(batch, { prepare: true, logged: false });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    return batches.length;
  }

  protected async markWritten(version: string, records: number): Promise<void> {
    await this.client.execute(`INSERT INTO ${this.keyspace}.state_versions (version, records) VALUES (?, ?)`, [version, records], { prepare: true });
  }

  protected async isWritten(version: string): Promise<boolean> {
    const r = await this.client.execute(`SELECT records FROM ${this.keyspace}.state_versions WHERE version = ?`, [version], { prepare: true });
    return r.rows.length > 0;
  }

  protected async readGroups(version: string, groups: readonly number[]): Promise<GroupRecords[]> {
    const select = `SELECT field, value FROM ${this.keyspace}.state_records WHERE version = ? AND key_group = ?`;
    return Promise.all(
      groups.map(async (group) => {
        const out: GroupRecords = [];
        let pageState: string | undefined;
        do {
          const r = await this.client.execute(select, [version, group], { prepare: true, fetchSize: PAGE, ...(pageState ? { pageState } : {}) });
          for (const row of r.rows) {
            const value = row['value'] as Buffer | null;
            out.push([row['field'] as Buffer, value === null || value.length === 0 ? undefined : value]);
          }
          pageState = r.pageState ?? undefined;
        } while (pageState !== undefined);
        return out;
      }),
    );
  }
}

/**
 * Creates the keyspace (SimpleStrategy with `replication` copies, default 1, when it does
 * not exist) and the tables of {@link CassandraStateBackend}. Idempotent.
 *
 * @example
 * await ensureCassandraStateSchema(client, 'sluice');
 */
export async function ensureCassandraStateSchema(client: CassandraStateClient, keyspace: string, replication = 1): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyspace)) throw new SluiceError('INVALID_ARGUMENT', `keyspace '${keyspace}' must be letters, digits and _`);
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replication}}`);
  await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.state_records (version text, key_group int, field blob, value blob, PRIMARY KEY ((version, key_group), field))`);
  await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.state_versions (version text PRIMARY KEY, records bigint)`);
}

