import { createHmac } from 'node:crypto';
import { resolveSecretSync, type Secret } from '../errors/secret.js';
import { SluiceError } from '../errors/index.js';
import { checkFields, replaceFields, type FieldsOf } from './fields.js';

/**
 * How {@link mask} hides a field:
 * - `'redact'`: the value becomes `'***'`;
 * - `'partial'` or `{ partial: { keepLast, keepFirst } }`: all but the last 4 (or the ones
 *   given) characters become `*` (`'4111111111111111'` → `'************1111'`);
 * - `{ hmac: key }`: a keyed hash (HMAC-SHA-256, hex), the same for the same value and key,
 *   so masked values still join and count, but cannot be reversed or guessed without the key.
 */
export type MaskMethod = 'redact' | 'partial' | { readonly partial: { readonly keepLast?: number; readonly keepFirst?: number } } | { readonly hmac: Secret };

/**
 * A function that masks `fields` of a record (a copy; the input is not changed), for
 * `map` or `stream.mask`. Values are masked as strings (numbers are turned into strings);
 * missing fields stay missing.
 *
 * @example
 * payments.mask(['card'], 'partial', { uid: 'mask-card' });           // card: '************1111'
 * payments.map(mask(['email'], { hmac: { env: 'PII_HMAC_KEY' } }));   // email: 'a3f1…' (64 hex digits)
 * mask<{ name: string }>(['name'], 'redact')({ name: 'Ada' });         // { name: '***' }
 */
export function mask<T extends object>(fields: FieldsOf<T>, how: MaskMethod): (record: T) => T {
  checkFields(fields, 'mask');
  const one = maskValue(how);
  return (record) => replaceFields(record, fields, one);
}

/** The masking of one value, for {@link mask} and for anything that shows a record (dead letters, logs). */
export function maskValue(how: MaskMethod): (value: unknown) => string {
  if (how === 'redact') return () => '***';
  if (how === 'partial' || (typeof how === 'object' && how !== null && 'partial' in how)) {
    const p = how === 'partial' ? {} : how.partial;
    const last = p.keepLast ?? 4;
    const first = p.keepFirst ?? 0;
    if (!Number.isInteger(last) || last < 0 || !Number.isInteger(first) || first < 0) {
      throw new SluiceError('PRIVACY_CONFIG_INVALID', `mask: partial keeps a whole number of characters, got keepFirst ${first}, keepLast ${last}`);
    }
    return (value) => {
      const s = String(value);
      // Short values are hidden whole: keeping 4 of 6 characters would show most of them.
      if (s.length <= (first + last) * 2) return '*'.repeat(s.length);
      return s.slice(0, first) + '*'.repeat(s.length - first - last) + (last > 0 ? s.slice(-last) : '');
    };
  }
  if (typeof how === 'object' && how !== null && 'hmac' in how) {
    // Resolved on first use (when the step runs), not when the job is built.
    let key: Buffer | undefined;
    return (value) => {
      key ??= Buffer.from(resolveSecretSync(how.hmac, 'mask: hmac key'));
      return createHmac('sha256', key).update(String(value)).digest('hex');
    };
  }
  throw new SluiceError('PRIVACY_CONFIG_INVALID', `mask: unknown method ${JSON.stringify(how)}; use 'redact', 'partial', { partial: { keepLast } } or { hmac: key }`);
}
