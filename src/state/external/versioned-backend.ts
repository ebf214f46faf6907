/**
 * What the external state backends (Redis: `redis-backend.ts`, Apache Cassandra:
 * `cassandra-backend.ts`) share: the on-disk backend as a local write-back cache, and
 * checkpoints written to the external store as immutable versions of records grouped by
 * key group, a checkpoint's handle naming its chain of versions.
 *
 * - `checkpointTo(_, id)` writes a new version `<prefix>:<id>-<token>` (a retried id never
 *   reuses one): every record (full, one in `fullEvery`) or those changed since the
 *   previous checkpoint (delta; a deletion is an empty value), grouped by key group (the
 *   state registry as group -1), then marks it written. The job's checkpoint stores only
 *   the handle, so completing the checkpoint is the atomic switch to the new state; a
 *   version written for a checkpoint that never completed is named by no completed
 *   checkpoint's handle and is never read.
 * - `restoreHandle(handle, keyGroups)` reads, for each version of the chain in order, only
 *   the groups asked for: rescaling reads key groups where they are, moving nothing in the
 *   external store. The next checkpoint is full (the local state ids are new).
 * - TTL: expiry travels inside each record and is enforced locally; expired records are
 *   dropped on restore. It is not mapped to the store's expiry: later deltas build on a
 *   version, so a version must outlive the entries inside it.
 * - Old versions are not deleted (the checkpoint storage's retention does not tell a
 *   backend which checkpoints it dropped): give the prefix a lifetime, or delete versions
 *   no retained checkpoint lists.
 */
import { randomBytes } from 'node:crypto';
import { SluiceError } from '../../errors/index.js';
import { META_BYTE } from '../disk/codec.js';
import type { DiskTable } from '../disk/disk-states.js';
import { DiskStateBackend, type DiskStateBackendOptions } from '../disk/lmdb-backend.js';
import type { KeyedStateHandle, StateBackendStats } from '../types.js';

/** The group of the state registry's records in a version. */
export const META_GROUP = -1;

/** What the last checkpoint wrote to the external store (metrics). */
export interface ExternalFlushStats {
  /** Milliseconds from the barrier until every record was in the store and the version marked written. */
  flushMs: number;
  /** Requests (pipelines, batches) sent: round trips. */
  roundTrips: number;
  /** Records (and deletions) written. */
  records: number;
  /** Bytes of keys and values written. */
  bytes: number;
  incremental: boolean;
}

/** Records of one group: `[field, value]`, the field being the record key without its key group; value undefined: deleted. */
export type GroupRecords = Array<[Buffer, Buffer | undefined]>;

/** Options of the external backends: the local cache's (`path` is its directory) and a key prefix. */
export interface ExternalStateBackendOptions extends DiskStateBackendOptions {
  /** Prefix of this step's versions, unique per job and step (the subtasks of a step share it). */
  prefix: string;
}

export abstract class VersionedExternalBackend extends DiskStateBackend {
  readonly prefix: string;
  /** What the last checkpoint wrote, undefined before the first. */
  lastFlush: ExternalFlushStats | undefined;
  private versions: string[] = [];
  private sinceFullVersion = 0;
  protected abstract readonly format: KeyedStateHandle['format'];
  /** For messages: 'Redis', 'Cassandra'. */
  protected abstract readonly storeName: string;

  constructor(options: ExternalStateBackendOptions) {
    super(options);
    this.prefix = options.prefix;
  }

  /** The disk backend's figures and the last flush to the external store. */
  override stats(): StateBackendStats {
    return { ...super.stats(), lastFlush: this.lastFlush };
  }

  /** Writes one batch of groups of a version; returns the round trips it took. */
  protected abstract writeGroups(version: string, groups: Map<number, GroupRecords>): Promise<number>;
  /** Marks a version complete (after all its groups). */
  protected abstract markWritten(version: string, records: number): Promise<void>;
  /** Whether a version was marked complete. */
  protected abstract isWritten(version: string): Promise<boolean>;
  /** The records of the given groups of a version, per group in the order given. */
  protected abstract readGroups(version: string, groups: readonly number[]): Promise<GroupRecords[]>;

  /** Writes a new version to the external store and returns the handle of its chain. `_dir` is unused. */
  override async checkpointTo(_dir: string, checkpointId: number): Promise<KeyedStateHandle> {
    this.checkOpen();
    const started = performance.now();
    const full = this.versions.length === 0 || this.sinceFullVersion >= this.fullEvery - 1;
    const version = `${this.prefix}:${checkpointId}-${randomBytes(4).toString('hex')}`;
    const stats: ExternalFlushStats = { flushMs: 0, roundTrips: 0, records: 0, bytes: 0, incremental: !full };
    try {
      await this.copyOut(full, async (records) => {
        const groups = new Map<number, GroupRecords>();
        for (const [key, value] of records) {
          const meta = key[0] === META_BYTE;
          const group = meta ? META_GROUP : key.readUInt16BE(0);
          const field = meta ? key : key.subarray(2);
          let list = groups.get(group);
          if (list === undefined) groups.set(group, (list = []));
          list.push([field, value]);
          stats.records++;
          stats.bytes += field.length + (value?.length ?? 0);
        }
        stats.roundTrips += await this.writeGroups(version, groups);
      });
      await this.markWritten(version, stats.records);
      stats.roundTrips++;
    } catch (e) {
      this.versions = []; // this checkpoint's change log is spent: the next version must be full
      throw e instanceof SluiceError ? e : new SluiceError('CHECKPOINT_FAILED', `writing checkpoint ${checkpointId} of ${this.prefix} to ${this.storeName} failed: ${(e as Error).message}`, { cause: e });
    }
    this.versions = full ? [version] : [...this.versions, version];
    this.sinceFullVersion = full ? 0 : this.sinceFullVersion + 1;
    stats.flushMs = performance.now() - started;
    this.lastFlush = stats;
    return { format: this.format, maxParallelism: this.maxParallelism, chain: [...this.versions], dirs: [], incremental: !full, bytes: stats.bytes };
  }

  /**
   * Loads the key groups `keyGroups` (all by default) of a handle {@link checkpointTo}
   * returned: those groups of each version of its chain, in order. Adds to what is there
   * (call it once per old subtask when rescaling).
   */
  override async restoreHandle(handle: KeyedStateHandle, keyGroups?: { from: number; to: number }): Promise<void> {
    this.checkOpen();
    if (handle?.format !== this.format || !Array.isArray(handle.chain)) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the state handle given is not a ${this.storeName} backend checkpoint (format ${String(handle?.format)})`);
    }
    if (handle.maxParallelism !== this.maxParallelism) {
      throw new SluiceError('STATE_INCOMPATIBLE', `the checkpoint was taken with max parallelism ${handle.maxParallelism}, this backend has ${this.maxParallelism}`);
    }
    const { from, to } = this.checkRange(keyGroups);
    this.store.flush();
    const ids = new Map<number, DiskTable>();
    for (const version of handle.chain) {
      if (!(await this.isWritten(version))) {
        throw new SluiceError('STATE_INCOMPATIBLE', `the ${this.storeName} state version ${version} is missing or was not written in full`, {
          hint: `Its data was deleted from ${this.storeName} (or lost): restore from a checkpoint whose versions are still there.`,
        });
      }
      const source = `${this.storeName} state version ${version}`;
      const [meta] = await this.readGroups(version, [META_GROUP]);
      await this.loadRecords(meta!, ids, from, to, source);
      for (let g = from; g <= to; g += GROUPS_PER_READ) {
        const groups = Array.from({ length: Math.min(to, g + GROUPS_PER_READ - 1) - g + 1 }, (_, i) => g + i);
        const read = await this.readGroups(version, groups);
        const records: Array<readonly [Buffer, Buffer | undefined]> = [];
        read.forEach((list, i) => {
          const prefix = Buffer.allocUnsafe(2);
          prefix.writeUInt16BE(groups[i]!, 0);
          for (const [field, value] of list) records.push([Buffer.concat([prefix, field]), value]);
        });
        await this.loadRecords(records, ids, from, to, source);
      }
    }
    this.versions = []; // the local state ids are new: the next version is full
  }
}

/** Key groups read per request round on restore. */
const GROUPS_PER_READ = 64;
