import { SluiceError } from '../errors/index.js';
import { checkFields, type FieldsOf } from './fields.js';
import { open, seal, type SubjectKeys } from './subject-keys.js';

/** The prefix of an encrypted field: `enc:v1:` then base64url of iv | tag | ciphertext. */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/** Options of {@link encryptFields} and {@link decryptFields}. */
export interface FieldEncryptionOptions<T> {
  /** Whose data the record is: a field (left in the clear: it names the key) or a function. */
  subject: (keyof T & string) | ((record: T) => string);
  keys: SubjectKeys;
}

function subjectOf<T>(options: FieldEncryptionOptions<T>, operator: string): (record: T) => string {
  const s = options.subject;
  const get = typeof s === 'function' ? s : (r: T) => (r as Record<string, unknown>)[s];
  return (record) => {
    const v = get(record);
    if (typeof v !== 'string' && typeof v !== 'number') throw new SluiceError('PRIVACY_CONFIG_INVALID', `${operator}: the record has no subject (got ${v === undefined ? 'undefined' : typeof v})`);
    return String(v);
  };
}

function checkOptions<T>(fields: readonly string[], options: FieldEncryptionOptions<T>, operator: string): void {
  checkFields(fields, operator);
  if (typeof options?.subject === 'string' && fields.includes(options.subject)) {
    throw new SluiceError('PRIVACY_CONFIG_INVALID', `${operator}: the subject field '${options.subject}' cannot be encrypted itself (it names the key); encrypt a copy, or take the subject from a function`);
  }
}

/** Encrypts `fields` of one record under `key` (sync: the warm path). */
export function encryptWith<T extends object>(record: T, fields: readonly string[], key: Buffer): T {
  const out = { ...record } as Record<string, unknown>;
  for (const f of fields) {
    const v = out[f];
    if (v === undefined) continue;
    // JSON keeps the value's type (a number comes back a number); the field name is the AAD,
    // so a ciphertext moved to another field does not decrypt.
    out[f] = ENCRYPTED_PREFIX + seal(key, Buffer.from(JSON.stringify(v)), Buffer.from(f)).toString('base64url');
  }
  return out as T;
}

/**
 * A function that encrypts `fields` of a record with the data key of its subject
 * (AES-256-GCM, a fresh IV per value), for `asyncMap`. The subject's key is created on
 * its first record; once {@link SubjectKeys.forget} deletes it, nothing encrypted for the
 * subject can be read again. Values keep their type through JSON; missing fields stay missing.
 *
 * @example
 * const keys = new SubjectKeys({ store: new FileKeyStore('.sluice/keys.json'), masterKey: { env: 'SLUICE_MASTER_KEY' } });
 * users.asyncMap(encryptFields(['email', 'card'], { subject: 'userId', keys }), { uid: 'encrypt' });
 * // { userId: 'u1', email: 'enc:v1:3q2…', card: 'enc:v1:9f…', plan: 'pro' }
 */
export function encryptFields<T extends object>(fields: FieldsOf<T>, options: FieldEncryptionOptions<T>): (record: T) => Promise<T> {
  checkOptions(fields, options, 'encryptFields');
  const subject = subjectOf(options, 'encryptFields');
  return async (record) => {
    const s = subject(record);
    const key = options.keys.cached(s) ?? (await options.keys.keyOf(s, true))!;
    return encryptWith(record, fields, key);
  };
}

/**
 * A function that decrypts what {@link encryptFields} encrypted, for `asyncMap`. A record
 * of a forgotten subject fails with `SUBJECT_FORGOTTEN` (to the dead letters with
 * `onError: 'dead-letter'`, its fields still encrypted); a value that is not encrypted is
 * left as it is.
 *
 * @example
 * encrypted.asyncMap(decryptFields(['email'], { subject: 'userId', keys }), { uid: 'decrypt', onError: 'dead-letter' });
 */
export function decryptFields<T extends object>(fields: FieldsOf<T>, options: FieldEncryptionOptions<T>): (record: T) => Promise<T> {
  checkOptions(fields, options, 'decryptFields');
  const subject = subjectOf(options, 'decryptFields');
  return async (record) => {
    const s = subject(record);
    const key = options.keys.cached(s) ?? (await options.keys.keyOf(s, false));
    const out = { ...record } as Record<string, unknown>;
    for (const f of fields) {
      const v = out[f];
      if (typeof v !== 'string' || !v.startsWith(ENCRYPTED_PREFIX)) continue;
      // The subject itself is not named: it is personal data too.
      if (key === undefined) throw new SluiceError('SUBJECT_FORGOTTEN', `decryptFields: the field '${f}' was encrypted for a subject whose key was deleted (forgotten); it cannot be read`);
      try {
        out[f] = JSON.parse(open(key, Buffer.from(v.slice(ENCRYPTED_PREFIX.length), 'base64url'), Buffer.from(f)).toString());
      } catch {
        throw new SluiceError('PRIVACY_CONFIG_INVALID', `decryptFields: the field '${f}' does not decrypt with its subject's key (encrypted for another subject or field, or altered)`);
      }
    }
    return out as T;
  };
}
