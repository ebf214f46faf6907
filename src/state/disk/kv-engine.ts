/**
 * The ordered key-value store under the on-disk backend's write-back cache: LMDB
 * (`lmdb-engine.ts`) or RocksDB (`rocksdb-engine.ts`). Internal to `state/disk/`.
 *
 * Everything is synchronous: a keyed step reads its state inside `processElement`, so a
 * cache miss must be answered before the call returns. Both engines keep a change log
 * beside the data (every key written or deleted since the last checkpoint, written in the
 * same atomic write as the records), which incremental checkpoints read.
 */

/** One raw record. */
export interface KvRecord {
  key: Buffer;
  value: Buffer;
}

/** A record to write: `value` undefined deletes the key. */
export type KvWrite = readonly [Buffer, Buffer | undefined];

/**
 * The state as of {@link KvEngine.beginCheckpoint}, which later writes do not disturb:
 * read in chunks (the caller yields to the event loop between them), then `done()`.
 */
export interface CheckpointView {
  /**
   * The next records of `[start, end)` after `cursor` (exclusive; from `start` when
   * undefined), at most `limit`. Full view: every record with its value; delta view:
   * the records named in the change log, `value` undefined for deleted ones.
   */
  next(start: Buffer, end: Buffer | undefined, after: Buffer | undefined, limit: number): Array<[Buffer, Buffer | undefined]>;
  /** Releases the view. */
  done(): void;
}

/** The ordered key-value store under the on-disk backend: LMDB (`lmdb-engine.ts`) or RocksDB (`rocksdb-engine.ts`). */
export interface KvEngine {
  /** The value of `key` (its exact bytes, valid until the next engine call), or undefined. */
  get(key: Buffer): Buffer | undefined;
  /** Applies puts and deletes in one atomic write; names each key in the change log when `log`. */
  write(records: ReadonlyArray<KvWrite>, log: boolean): void;
  /** The records in `[start, end)` in key order (copies), at most `limit`. */
  range(start: Buffer, end: Buffer, limit?: number): KvRecord[];
  /** Visits the records in `[start, end)` without collecting them. The buffers are valid during the call only. */
  forEach(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer) => void): void;
  /** Deletes every record and the change log. */
  clear(): void;
  /**
   * Pins the state as it is now (`full`: all records; else the ones the change log names)
   * and empties the change log: a new log starts for the next checkpoint.
   */
  beginCheckpoint(full: boolean): CheckpointView;
  /** Bytes the engine's files take on disk (for metrics and the benchmark). */
  diskBytes(): number;
  /** Closes the store, keeping its files. */
  close(): Promise<void>;
  /** Deletes the engine's files (after {@link close}). */
  destroy(): Promise<void>;
}
