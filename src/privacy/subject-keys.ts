import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { resolveSecretSync, type Secret } from '../errors/secret.js';
import { SluiceError } from '../errors/index.js';
import type { KeyStore } from './key-store.js';

/** Options of {@link SubjectKeys}. */
export interface SubjectKeysOptions {
  /** Where the wrapped keys are kept. */
  store: KeyStore;
  /** The master key: 32 bytes as 64 hex digits or base64. Always a reference in production: `{ env: 'SLUICE_MASTER_KEY' }`, `{ file: '/run/secrets/master-key' }`. */
  masterKey: Secret;
  /**
   * How long an unwrapped key is kept in memory (default 60 s). A subject forgotten by
   * another process stays readable here for at most this long; one forgotten through this
   * object, at once.
   */
  cacheTtlMs?: number;
  /** Epoch ms, for the cache (tests). */
  now?: () => number;
}

const GCM_IV = 12;
const GCM_TAG = 16;

/** AES-256-GCM of `plain` under `key`, bound to `aad`: iv | tag | ciphertext. */
export function seal(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(GCM_IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

/** The inverse of {@link seal}; throws when the key, the AAD or the bytes are not the ones sealed. */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, GCM_IV));
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(GCM_IV, GCM_IV + GCM_TAG));
  return Buffer.concat([d.update(sealed.subarray(GCM_IV + GCM_TAG)), d.final()]);
}

/**
 * Per-subject data keys (AES-256, random), created on first use, kept in a {@link KeyStore}
 * wrapped by the master key (AES-256-GCM, bound to the subject), and forgotten on request:
 * {@link forget} deletes the subject's key, so everything encrypted for that subject — in
 * outputs, state, checkpoints, topics — can never be read again (crypto-shredding).
 *
 * @example
 * const keys = new SubjectKeys({ store: new FileKeyStore('.sluice/keys.json'), masterKey: { env: 'SLUICE_MASTER_KEY' } });
 * users.asyncMap(encryptFields(['email', 'address'], { subject: 'userId', keys }), { uid: 'encrypt' });
 * await keys.forget('user-42'); // true: user-42's data is now unreadable everywhere
 */
export class SubjectKeys {
  private master: Buffer | undefined;
  private readonly cache = new Map<string, { key: Buffer; at: number }>();
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly options: SubjectKeysOptions) {
    this.ttl = options.cacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  private masterKey(): Buffer {
    if (this.master) return this.master;
    const text = resolveSecretSync(this.options.masterKey, 'SubjectKeys masterKey').trim();
    const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32) throw new SluiceError('PRIVACY_CONFIG_INVALID', `the master key must be 32 bytes (64 hex digits or base64), got ${key.length} bytes`);
    return (this.master = key);
  }

  /** The subject's key when it is in memory and fresh (the warm path: no promise). */
  cached(subject: string): Buffer | undefined {
    const hit = this.cache.get(subject);
    if (hit === undefined) return undefined;
    if (this.now() - hit.at > this.ttl) {
      this.cache.delete(subject);
      return undefined;
    }
    return hit.key;
  }

  /** The subject's data key, created when it has none; `create: false` gives undefined instead (a forgotten subject). */
  async keyOf(subject: string, create: boolean): Promise<Buffer | undefined> {
    const hit = this.cached(subject);
    if (hit) return hit;
    const aad = Buffer.from(subject);
    let wrapped = await this.options.store.get(subject);
    if (wrapped === undefined) {
      if (!create) return undefined;
      wrapped = await this.options.store.create(subject, seal(this.masterKey(), randomBytes(32), aad));
    }
    let key: Buffer;
    try {
      key = open(this.masterKey(), wrapped, aad);
    } catch {
      throw new SluiceError('PRIVACY_CONFIG_INVALID', `the data key of a subject cannot be unwrapped: the master key is not the one it was wrapped with`);
    }
    this.cache.set(subject, { key, at: this.now() });
    return key;
  }

  /**
   * Deletes the subject's data key from the store and from memory: what was encrypted for
   * it can no longer be decrypted, anywhere. Resolves whether the subject had a key.
   * (`POST /jobs/:id/forget` calls it for the role operator, and the audit log records it.)
   */
  async forget(subject: string): Promise<boolean> {
    this.cache.delete(subject);
    return this.options.store.delete(subject);
  }

  /** Closes the key store. */
  close(): Promise<void> {
    this.cache.clear();
    return this.options.store.close();
  }
}
