/**
 * Keyed state kept in Redis, with a local write-back cache flushed at the checkpoint barrier
 * (the hybrid of the seed's state section): a job that restarts on another machine needs
 * nothing from the old one's disk.
 *
 * ## Why a local cache in front, and what it holds
 * A keyed step reads its state synchronously inside `processElement`, so a read cannot wait
 * for a network round trip. The backend is therefore the on-disk backend (LMDB, with its
 * bounded in-memory cache and its change log) used as a local cache of the subtask's key
 * groups, and Redis is where the state lives between checkpoints: at each barrier the
 * records changed since the previous one are written to Redis (pipelined), and a restore,
 * on any machine, reads the subtask's key groups back from Redis.
 *
 * ## Layout (versioned, so that a checkpoint is a consistent cut: `versioned-backend.ts`)
 * Every checkpoint writes a new version `<prefix>:<checkpointId>-<token>` and never touches
 * an older one:
 * - `<version>:kg:<key group>`: a hash per key group, field = the record key without its
 *   key group (state id, key, namespace, map key: `state/disk/codec.ts`; its bytes as
 *   latin1 characters, stored as UTF-8), value = the
 *   record (expiry and msgpack value); an empty value is a deletion;
 * - `<version>:meta`: the state registry (state name -> id and kind).
 * A version holds every record (full) or those changed since the previous version (delta);
 * one in `fullEvery` is full. The checkpoint's handle lists the chain of versions (the last
 * full one, then deltas), and the job's checkpoint stores only that handle: the switch to a
 * new state is the checkpoint's completion itself. Versions written for a checkpoint that
 * never completed (a crash between writing state and completing the checkpoint) are named
 * by no completed checkpoint, so a restore reads exactly the previous checkpoint's versions.
 *
 * ## Rescaling
 * A hash holds one key group, so a subtask given key groups `[from, to]` reads exactly
 * their hashes from the chains of the old subtasks: no state is moved or rewritten in
 * Redis. The first checkpoint after a restore is full (the local state ids are new).
 *
 * ## TTL
 * Expiry travels inside each record and is enforced locally (as the on-disk backend does);
 * expired records are dropped on restore. It is not mapped to Redis expiry: a whole
 * version's hash would expire at once, and per-field expiry (HEXPIRE) needs Redis 7.4;
 * versions are shared by later deltas, so they must outlive the entries inside them.
 *
 * ## Not done here
 * Old versions are not deleted from Redis (the checkpoint storage's retention does not yet
 * tell a backend which checkpoints it dropped): delete `<prefix>:*` keys of versions no
 * retained checkpoint lists, or give the prefix a lifetime of its own.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const redis = new Redis('redis://127.0.0.1:6379');
 * const job = new Job({
 *   checkpoints: { interval: '10s' },
 *   stateBackend: ({ uid, clock, maxParallelism }) =>
 *     new RedisStateBackend({ clock, maxParallelism, redis, prefix: `sluice:orders:${uid}`, path: mkdtempSync(join(tmpdir(), 'sluice-cache-')) }),
 * });
 */
import { SluiceError } from '../../errors/index.js';
import { META_GROUP, VersionedExternalBackend, type ExternalFlushStats, type ExternalStateBackendOptions, type GroupRecords } from './versioned-backend.js';

/**
 * The Redis commands the backend sends: an ioredis `Redis` client fits (Sluice names no
 * client type here, so that its main entry does not depend on ioredis).
 */
export interface RedisStateClient {
  /** Starts a pipeline (ioredis' `pipeline()`). */
  pipeline(): RedisStatePipeline;
  /** GET. */
  get(key: string): Promise<string | null>;
  /** SET. */
  set(key: string, value: string): Promise<unknown>;
  /** HGETALL, values as buffers. */
  hgetallBuffer(key: string): Promise<Record<string, Buffer>>;
}

/** The pipeline of a {@link RedisStateClient}. */
export interface RedisStatePipeline {
  /** HSET, queued. */
  hset(key: string, ...fieldsAndValues: Array<string | Buffer>): unknown;
  /** HGETALL with buffer values, queued. */
  hgetallBuffer(key: string): unknown;
  /** Sends the queued commands; each one's error or result. */
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Options of {@link RedisStateBackend}: the local cache's (`path` is its directory), Redis and a key prefix. */
export interface RedisStateBackendOptions extends ExternalStateBackendOptions {
  /** A connected ioredis client; backends may share one. Not closed by the backend. */
  redis: RedisStateClient;
}

/** What the last checkpoint wrote to Redis (metrics). */
export type RedisFlushStats = ExternalFlushStats;

const TOMBSTONE = Buffer.alloc(0);

/**
 * Keyed state in Redis behind a local write-back cache (the design is at the top of
 * `state/external/redis-backend.ts`). Passes the shared backend suite; its checkpoints
 * (`checkpointTo`) go to Redis as versioned hashes per key group.
 *
 * @example
 * const backend = new RedisStateBackend({ clock, redis, prefix: 'sluice:job:count', path: '/tmp/cache-count' });
 * const handle = await backend.checkpointTo('', 1); // the state as of now, in Redis
 * await fresh.restoreHandle(handle, { from: 0, to: 63 }); // on any machine: key groups 0..63
 */
export class RedisStateBackend extends VersionedExternalBackend {
  readonly redis: RedisStateClient;
  protected readonly format = 'redis-chain' as const;
  protected readonly storeName = 'Redis';

  constructor(options: RedisStateBackendOptions) {
    if (options?.redis === undefined || typeof options.prefix !== 'string' || options.prefix === '') {
      throw new SluiceError('INVALID_ARGUMENT', 'RedisStateBackend needs a redis client and a key prefix', { hint: 'Pass { redis: new Redis(url), prefix: `sluice:<job>:<step uid>` } beside clock and path.' });
    }
    super(options);
    this.redis = options.redis;
  }

  protected async writeGroups(version: string, groups: Map<number, GroupRecords>): Promise<number> {
    const pipeline = this.redis.pipeline();
    for (const [group, records] of groups) {
      const args: Array<string | Buffer> = [];
      // Fields go as latin1 strings (sent as UTF-8): ioredis reads hash fields back as
      // UTF-8 strings, which would mangle raw bytes but round-trips these.
      for (const [field, value] of records) args.push(field.toString('latin1'), value ?? TOMBSTONE);
      pipeline.hset(hashOf(version, group), ...args);
    }
    await execOrThrow(pipeline, `writing ${version} to Redis`);
    return 1;
  }

  protected async markWritten(version: string, records: number): Promise<void> {
    await this.redis.set(`${version}:written`, String(records));
  }

  protected async isWritten(version: string): Promise<boolean> {
    return (await this.redis.get(`${version}:written`)) !== null;
  }

  protected async readGroups(version: string, groups: readonly number[]): Promise<GroupRecords[]> {
    const pipeline = this.redis.pipeline();
    for (const g of groups) pipeline.hgetallBuffer(hashOf(version, g));
    const hashes = (await execOrThrow(pipeline, `reading ${version} from Redis`)) as Array<Record<string, Buffer>>;
    return hashes.map((hash) => Object.entries(hash).map(([field, value]) => [Buffer.from(field, 'latin1'), value.length === 0 ? undefined : value]));
  }
}

function hashOf(version: string, group: number): string {
  return group === META_GROUP ? `${version}:meta` : `${version}:kg:${group}`;
}

/** Runs a pipeline; the first command error is thrown. */
async function execOrThrow(pipeline: RedisStatePipeline, what: string): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new SluiceError('CHECKPOINT_FAILED', `${what}: the pipeline was discarded`);
  return results.map(([err, value]) => {
    if (err) throw new SluiceError('CHECKPOINT_FAILED', `${what} failed: ${err.message}`, { cause: err });
    return value;
  });
}

