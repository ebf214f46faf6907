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
  private keys: Map<string, string> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Read again before every use: another store object on the same file may have forgotten a key since (a stale copy must never bring it back). */
  private load(fresh = true): Map<string, string> {
    if (this.keys && !fresh) return this.keys;
    let data: Record<string, string> = {};
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, string>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SluiceError('STATE_IO_FAILED', `the key store ${this.path} cannot be read: ${(e as Error).message}`);
    }
    return (this.keys = new Map(Object.entries(data)));
  }

  private save(): Promise<void> {
    const text = JSON.stringify(Object.fromEntries(this.load(false)));
    const write = this.tail.then(async () => {
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      const f = await open(tmp, 'w', 0o600);
      try {
        await f.writeFile(text);
        await f.sync();
      } finally {
        await f.close();
      }
      await rename(tmp, this.path);
    });
    this.tail = write.catch(() => {});
    return write;
  }

  get(subject: string): Promise<Buffer | undefined> {
    const v = this.load().get(subject);
    return Promise.resolve(v === undefined ? undefined : Buffer.from(v, 'base64'));
  }

  async create(subject: string, wrapped: Buffer): Promise<Buffer> {
    const keys = this.load();
    const had = keys.get(subject);
    if (had !== undefined) return Buffer.from(had, 'base64');
    keys.set(subject, wrapped.toString('base64'));
    await this.save();
    return wrapped;
  }

  async delete(subject: string): Promise<boolean> {
    const had = this.load().delete(subject);
    if (had) await this.save();
    return had;
  }

  async close(): Promise<void> {
    await this.tail;
  }
}
