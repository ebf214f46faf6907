import { checkFields, replaceFields, type FieldsOf } from './fields.js';
import type { TokenVault } from './token-vault.js';

/**
 * A function that replaces `fields` of a record by deterministic tokens kept in `vault`,
 * for `asyncMap`. Each value is stored in the vault before its token leaves the step, so
 * every token handed out can be reversed by {@link detokenize}. Values are tokenised as
 * strings; missing fields stay missing. A value seen before is tokenised from memory.
 *
 * @example
 * import { RedisTokenVault } from 'sluice/redis';
 * const vault = new RedisTokenVault({ url: { env: 'REDIS_URL' }, key: { env: 'TOKEN_KEY' } });
 * users.asyncMap(tokenize(['email', 'phone'], vault), { uid: 'tokenize', capacity: 100 });
 * // { email: 'tok_Qm9…', phone: 'tok_x1…', plan: 'pro' }
 */
export function tokenize<T extends object>(fields: FieldsOf<T>, vault: TokenVault): (record: T) => Promise<T> {
  checkFields(fields, 'tokenize');
  return async (record) => {
    const out = { ...record } as Record<string, unknown>;
    for (const f of fields) {
      const v = out[f];
      if (v === undefined || v === null) continue;
      const s = String(v);
      out[f] = vault.cached(s) ?? (await vault.tokenize(s));
    }
    return out as T;
  };
}

/**
 * The synchronous warm path of {@link tokenize}: the record with its fields tokenised when
 * every value's token is in the vault's cache, else undefined (take the async path).
 */
export function tokenizeCached<T extends object>(fields: FieldsOf<T>, vault: TokenVault): (record: T) => T | undefined {
  checkFields(fields, 'tokenize');
  return (record) => {
    let missed = false;
    const out = replaceFields(record, fields, (v) => {
      const t = vault.cached(String(v));
      if (t === undefined) missed = true;
      return t;
    });
    return missed ? undefined : out;
  };
}

/**
 * A function that turns the tokens in `fields` back into their values, for `asyncMap` in
 * a job allowed to see them. A token the vault does not hold fails the record with
 * `TOKEN_UNKNOWN` (to the dead letters with `onError: 'dead-letter'`).
 *
 * @example
 * tokens.asyncMap(detokenize(['email'], vault), { uid: 'detokenize' });
 */
export function detokenize<T extends object>(fields: FieldsOf<T>, vault: TokenVault): (record: T) => Promise<T> {
  checkFields(fields, 'detokenize');
  return async (record) => {
    const present = fields.filter((f) => (record as Record<string, unknown>)[f] !== undefined && (record as Record<string, unknown>)[f] !== null);
    const values = await vault.detokenize(present.map((f) => String((record as Record<string, unknown>)[f])));
    const out = { ...record } as Record<string, unknown>;
    present.forEach((f, i) => (out[f] = values[i]));
    return out as T;
  };
}
