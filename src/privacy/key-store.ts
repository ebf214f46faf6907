/**
 * Where per-subject data keys are kept, wrapped (encrypted) by a master key: a PostgreSQL
 * table (`PostgresKeyStore` in `sluice/postgres`) or, embedded, a local file
 * ({@link FileKeyStore}). A store never sees a key in the clear.
 */
export interface KeyStore {
  /** The wrapped key of `subject`, or undefined when it has none (never had, or was forgotten). */
  get(subject: string): Promise<Buffer | undefined>;
  /** Stores `wrapped` for `subject` unless it has a key already; returns the key that is stored (a concurrent creator's may win). */
  create(subject: string, wrapped: Buffer): Promise<Buffer>;
  /** Deletes the subject's key (crypto-shredding); resolves whether it had one. */
  delete(subject: string): Promise<boolean>;
  /** Releases the store's connection or file. */
  close(): Promise<void>;
}
