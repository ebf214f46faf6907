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
 * ## Layout (versioned, so that a checkpoint is a consistent cut)
 * Every checkpoint writes a new version `<prefix>:<checkpointId>-<token>` (a retried id never
 * reuses one) and never touches an older one:
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
import { randomBytes } from 'node:crypto';
import { SluiceError } from '../../errors/index.js';
import { META_BYTE } from '../disk/codec.js';
import type { DiskTable } from '../disk/disk-states.js';
import { DiskStateBackend, type DiskStateBackendOptions } from '../disk/lmdb-backend.js';
import type { KeyedStateHandle } from '../types.js';

/**
 * The Redis commands the backend sends: an ioredis `Redis` client fits (Sluice names no
 * client type here, so that its main entry does not depend on ioredis).
 */
export interface RedisStateClient {
  pipeline(): RedisStatePipeline;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  hgetallBuffer(key: string): Promise<Record<string, Buffer>>;
}

/** The pipeline of a {@link RedisStateClient}. */
export interface RedisStatePipeline {
  hset(key: string, ...fieldsAndValues: Array<string | Buffer>): unknown;
  hgetallBuffer(key: string): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Options of {@link RedisStateBackend}: the local cache's (`path` is its directory), Redis and a key prefix. */
export interface RedisStateBackendOptions extends DiskStateBackendOptions {
  /** A connected ioredis client; backends may share one. Not closed by the backend. */
  redis: RedisStateClient;
  /** Prefix of this step's Redis keys, unique per job and step (subtasks of a step share it). */
  prefix: string;
}

/** What the last checkpoint wrote to Redis (metrics). */
export interface RedisFlushStats {
  /** Milliseconds from the barrier until every record was in Redis. */
  flushMs: number;
  /** Pipelines sent (round trips). */
  roundTrips: number;
  /** Records (and deletions) written. */
  records: number;
  /** Bytes of keys and values written. */
  bytes: number;
  incremental: boolean;
}

const TOMBSTONE = Buffer.alloc(0);
/** Key groups read per pipeline on restore. */
const GROUPS_PER_READ = 64;

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
export class RedisStateBackend extends DiskStateBackend {
  readonly redis: RedisStateClient;
  readonly prefix: string;
  private versions: string[] = [];
  private sinceFullVersion = 0;
  /** What the last checkpoint wrote, undefined before the first. */
  lastFlush: RedisFlushStats | undefined;

  constructor(options: RedisStateBackendOptions) {
    if (options?.redis === undefined || typeof options.prefix !== 'string' || options.prefix === '') {
      throw new SluiceError('INVALID_ARGUMENT', 'RedisStateBackend needs a redis client and a key prefix', { hint: 'Pass { redis: new Redis(url), prefix: `sluice:<job>:<step uid>` } beside clock and path.' });
    }
    super(options);
    this.redis = options.redis;
    this.prefix = options.prefix;
  }

  /**
   * Writes the records changed since the previous checkpoint (or all of them) to a new
   * Redis version and returns the handle listing the chain. `_dir` is unused: nothing goes
   * to the checkpoint storage's files.
   */
  override async checkpointTo(_dir: string, checkpointId: number): Promise<KeyedStateHandle> {
    this.checkOpen();
    const started = performance.now();
    const full = this.versions.length === 0 || this.sinceFullVersion >= this.fullEvery - 1;
    const version = `${this.prefix}:${checkpointId}-${randomBytes(4).toString('hex')}`;
    const stats: RedisFlushStats = { flushMs: 0, roundTrips: 0, records: 0, bytes: 0, incremental: !full };
    try {
      await this.copyOut(full, async (records) => {
        const byHash = new Map<string, Array<string | Buffer>>();
        for (const [key, value] of records) {
          const hash = key[0] === META_BYTE ? `${version}:meta` : `${version}:kg:${key.readUInt16BE(0)}`;
          const field = key[0] === META_BYTE ? key : key.subarray(2);
          let args = byHash.get(hash);
          if (args === undefined) byHash.set(hash, (args = []));
          // Fields go as latin1 strings (sent as UTF-8): ioredis reads hash fields back as
          // UTF-8 strings, which would mangle raw bytes but round-trips these.
          args.push(field.toString('latin1'), value ?? TOMBSTONE);
          stats.records++;
          stats.bytes += field.length + (value?.length ?? 0);
        }
        const pipeline = this.redis.pipeline();
        for (const [hash, args] of byHash) pipeline.hset(hash, ...args);
        await execOrThrow(pipeline, `writing checkpoint ${checkpointId} to Redis`);
        stats.roundTrips++;
      });
      // Marks the version as written in full (a version without it is an interrupted write).
      await this.redis.set(`${version}:written`, String(stats.records));
      stats.roundTrips++;
    } catch (e) {
      this.versions = []; // the change log is gone with this attempt: the next version must be full
      throw e instanceof SluiceError ? e : new SluiceError('CHECKPOINT_FAILED', `writing checkpoint ${checkpointId} of ${this.prefix} to Redis failed: ${(e as Error).message}`, { cause: e });
    }
    this.versions = full ? [version] : [...this.versions, version];
    this.sinceFullVersion = full ? 0 : this.sinceFullVersion + 1;
    stats.flushMs = performance.now() - started;
    this.lastFlush = stats;
    return { format: 'redis-chain', maxParallelism: this.maxParallelism, chain: [...this.versions], dirs: [], incremental: !full, bytes: stats.bytes };
  }

  /**
   * Loads the key groups `keyGroups` (all by default) of a handle {@link checkpointTo}
   * returned, from Redis: the hashes of those key groups in each version of its chain, in
   * order. Adds to what is there (call it once per old subtask when rescaling).
   */
  override async restoreHandle(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void> {
    this.checkOpen();
    if (handle?.format !== 'redis-chain' || !Array.isArray(handle.chain)) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the state handle given is not a Redis backend checkpoint (format ${String(handle?.format)})`);
    }
    if (handle.maxParallelism !== this.maxParallelism) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the checkpoint was taken with max parallelism ${handle.maxParallelism}, this backend has ${this.maxParallelism}`);
    }
    const { from, to } = this.checkRange(keyGroups);
    this.store.flush();
    const ids = new Map<number, DiskTable>();
    for (const version of handle.chain) {
      const [written, meta] = await Promise.all([this.redis.get(`${version}:written`), this.redis.hgetallBuffer(`${version}:meta`)]);
      if (written === null) {
        throw new SluiceError('STATE_INCOMPATIBLE', `the Redis state version ${version} is missing or was not written in full`, {
          hint: 'Its keys were deleted from Redis (or Redis lost them): restore from a checkpoint whose versions are still there.',
        });
      }
      await this.loadRecords(
        Object.entries(meta).map(([field, value]) => [Buffer.from(field, 'latin1'), value.length === 0 ? undefined : value] as const),
        ids,
        from,
        to,
        `Redis state version ${version}`,
      );
      for (let g = from; g <= to; g += GROUPS_PER_READ) {
        const last = Math.min(to, g + GROUPS_PER_READ - 1);
        const pipeline = this.redis.pipeline();
        for (let k = g; k <= last; k++) pipeline.hgetallBuffer(`${version}:kg:${k}`);
        const hashes = (await execOrThrow(pipeline, `reading ${version} from Redis`)) as Array<Record<string, Buffer>>;
        const records: Array<readonly [Buffer, Buffer | undefined]> = [];
        hashes.forEach((hash, i) => {
          const group = Buffer.allocUnsafe(2);
          group.writeUInt16BE(g + i, 0);
          for (const [field, value] of Object.entries(hash)) records.push([Buffer.concat([group, Buffer.from(field, 'latin1')]), value.length === 0 ? undefined : value]);
        });
        await this.loadRecords(records, ids, from, to, `Redis state version ${version}`);
      }
    }
    this.versions = []; // the local state ids are new: the next version is full
  }
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
