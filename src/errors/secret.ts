import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { REDACTED, redactSecrets } from './redact.js';
import { SluiceError } from './sluice-error.js';

/**
 * A reference to a secret kept outside the job's code: an environment variable, or a file
 * (a Kubernetes or Docker secret mounted at `/run/secrets/…`). It is read when the
 * connector or server opens, never when the job is built, so `explain()`, the REST job
 * view and checkpoint metadata only ever see the reference.
 */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** A secret option: the value itself, or a {@link SecretRef} to it. */
export type Secret = string | SecretRef;

/** Whether `value` is a {@link SecretRef}. */
export function isSecretRef(value: unknown): value is SecretRef {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ((keys[0] === 'env' && typeof (value as { env: unknown }).env === 'string') || (keys[0] === 'file' && typeof (value as { file: unknown }).file === 'string'));
}

function unresolved(ref: SecretRef, what: string, why: string): SluiceError {
  return new SluiceError('SECRET_UNRESOLVED', `${what}: the secret ${describeSecret(ref)} ${why}`);
}

function checked(value: string, ref: SecretRef, what: string): string {
  // A mounted file ends with a newline more often than not; it is not part of the secret.
  const v = 'file' in ref ? value.replace(/\r?\n$/, '') : value;
  if (v === '') throw unresolved(ref, what, 'is empty');
  return v;
}

/**
 * The value of a secret option: as given, or read from the variable or file it names
 * (`SECRET_UNRESOLVED` when unset, unreadable or empty; the message names the variable or
 * file, never a value).
 *
 * @example
 * redisSink({ url: { env: 'REDIS_URL' }, target });           // read when the sink opens
 * postgresSink({ connectionString: { file: '/run/secrets/pg' }, ... });
 * await resolveSecret({ env: 'HOME' }, 'example'); // '/root'
 */
export async function resolveSecret(secret: Secret, what: string): Promise<string> {
  if (typeof secret === 'string') return secret;
  if ('env' in secret) return resolveSecretSync(secret, what);
  try {
    return checked(await readFile(secret.file, 'utf8'), secret, what);
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    throw unresolved(secret, what, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** {@link resolveSecret} for options read synchronously (a server's tokens at start). */
export function resolveSecretSync(secret: Secret, what: string): string {
  if (typeof secret === 'string') return secret;
  if ('env' in secret) {
    const v = process.env[secret.env];
    if (v === undefined) throw unresolved(secret, what, 'is not set');
    return checked(v, secret, what);
  }
  try {
    return checked(readFileSync(secret.file, 'utf8'), secret, what);
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    throw unresolved(secret, what, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * How a secret option is shown (descriptions, messages): a reference by what it names
 * (`{env REDIS_URL}`), a value with its secrets redacted (`redis://app:***@cache:6379`).
 */
export function describeSecret(secret: Secret): string {
  if (typeof secret === 'string') return redactSecrets(secret);
  return 'env' in secret ? `{env ${secret.env}}` : `{file ${secret.file}}`;
}

/**
 * Hides secrets in a text that may quote them (a client library's error message): every
 * occurrence of each value given, whole and as a URL's password, and what
 * {@link redactSecrets} recognises.
 *
 * @example
 * scrubSecrets('WRONGPASS for redis://app:hunter2@h', ['redis://app:hunter2@h']); // 'WRONGPASS for redis://app:***@h'
 */
export function scrubSecrets(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) {
    if (v.length < 4) continue;
    // A URL value: its password alone may be quoted too.
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:([^@\s/]+)@/i.exec(v)?.[1];
    const kv = /password=([^\s&]+)/i.exec(v)?.[1];
    for (const p of [password, kv, password && safeDecode(password)]) if (p !== undefined && p.length >= 4) out = out.split(p).join(REDACTED);
    if (!v.includes('://') && !v.includes('=')) out = out.split(v).join(REDACTED);
  }
  return redactSecrets(out);
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
