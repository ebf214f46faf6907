import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SluiceError } from '../errors/index.js';
import type { KeyStore } from './key-store.js';

/**
 * A {@link KeyStore} in one local JSON file (embedded mode): subject → wrapped key,
 * base64. Each change writes a new file, fsyncs it and renames it over the old one, so a
 * crash leaves the old or the new file, and a forgotten key is gone from the file at once.
 * The file is read again on every lookup and change (a lookup happens only when a key is not
 * in `SubjectKeys`' cache). For one process; several processes share keys through `PostgresKeyStore`.
 *
 * @example
 * const keys = new SubjectKeys({ store: new FileKeyStore('.sluice/keys.json'), masterKey: { env: 'SLUICE_MASTER_KEY' } });
 */
export class FileKeyStore implements KeyStore {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Runs `fn` after every earlier operation of this object: each read-modify-write is whole. */
  private locked<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /** Read again on every use: another store object on the same file may have forgotten a key since (a stale copy must never bring it back). */
  private load(): Map<string, string> {
    let data: Record<string, string> = {};
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, string>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SluiceError('STATE_IO_FAILED', `the key store ${this.path} cannot be read: ${(e as Error).message}`);
    }
    return new Map(Object.entries(data));
  }

  private async save(keys: Map<string, string>): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const f = await open(tmp, 'w', 0o600);
    try {
      await f.writeFile(JSON.stringify(Object.fromEntries(keys)));
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, this.path);
  }

  get(subject: string): Promise<Buffer | undefined> {
    return this.locked(async () => {
      const v = this.load().get(subject);
      return v === undefined ? undefined : Buffer.from(v, 'base64');
    });
  }

  create(subject: string, wrapped: Buffer): Promise<Buffer> {
    return this.locked(async () => {
      const keys = this.load();
      const had = keys.get(subject);
      if (had !== undefined) return Buffer.from(had, 'base64');
      keys.set(subject, wrapped.toString('base64'));
      await this.save(keys);
      return wrapped;
    });
  }

  delete(subject: string): Promise<boolean> {
    return this.locked(async () => {
      const keys = this.load();
      const had = keys.delete(subject);
      if (had) await this.save(keys);
      return had;
    });
  }

  /** Nothing to release: every change is written when made. */
  async close(): Promise<void> {
    await this.tail;
  }
}
