import { readFile } from 'node:fs/promises';
import { SluiceError } from '../../errors/index.js';
import { describeSecret, isSecretRef, resolveSecret, type Secret } from '../../errors/secret.js';

/**
 * TLS of a connector's connection to its service (NATS, Redis, PostgreSQL, MQTT). Each
 * certificate or key is PEM text, a path to a PEM file, or a reference to either
 * (`{ env: 'REDIS_CA' }`, `{ file: '/run/secrets/client.key' }`), read when the connector
 * opens, so `explain()` and the REST views only ever see the path or the reference.
 *
 * @example
 * redisSink({ url: 'rediss://cache:6380', tls: { ca: '/etc/ssl/cache-ca.pem' }, username: 'app', password: { env: 'REDIS_PASSWORD' }, target });
 */
export interface ConnectorTlsOptions {
  /** The CA certificates the server's certificate must chain to, instead of the system's (a private CA). */
  ca?: Secret;
  /** The client certificate, for servers that authenticate clients by certificate (mutual TLS). */
  cert?: Secret;
  /** The client certificate's private key. */
  key?: Secret;
  /** The passphrase of an encrypted `key`. */
  passphrase?: Secret;
  /** The host name the server's certificate must name, when it differs from the host connected to. */
  servername?: string;
  /**
   * Refuse a server whose certificate does not verify (default true). Turning it off accepts
   * any server, an attacker's included: for a throwaway test only.
   */
  rejectUnauthorized?: boolean;
}

/** {@link ConnectorTlsOptions} with the PEM read: what Node's `tls.connect` takes. */
export interface LoadedTls {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

const PEM_FIELDS = ['ca', 'cert', 'key', 'passphrase'] as const;

/**
 * Checks TLS options when the connector is built: INVALID_ARGUMENT naming the connector
 * and the field (never a value). `true` means TLS with the system's CAs.
 */
export function checkTlsOptions(tls: unknown, who: string): ConnectorTlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) throw new SluiceError('INVALID_ARGUMENT', `${who}: tls must be true or { ca, cert, key, passphrase, servername, rejectUnauthorized }`);
  const t = tls as Record<string, unknown>;
  for (const field of PEM_FIELDS) {
    const v = t[field];
    if (v !== undefined && !((typeof v === 'string' && v !== '') || isSecretRef(v))) {
      throw new SluiceError('INVALID_ARGUMENT', `${who}: tls.${field} must be PEM text, a file path, or { env } / { file } naming one`);
    }
  }
  if ((t.cert === undefined) !== (t.key === undefined)) throw new SluiceError('INVALID_ARGUMENT', `${who}: tls.cert and tls.key go together (a client certificate needs its key)`);
  if (t.servername !== undefined && (typeof t.servername !== 'string' || t.servername === '')) throw new SluiceError('INVALID_ARGUMENT', `${who}: tls.servername must be a non-empty host name`);
  if (t.rejectUnauthorized !== undefined && typeof t.rejectUnauthorized !== 'boolean') throw new SluiceError('INVALID_ARGUMENT', `${who}: tls.rejectUnauthorized must be a boolean`);
  return t as ConnectorTlsOptions;
}

/** How TLS options show in `describe()` (`, tls (ca /etc/ssl/ca.pem)`): the CA's path or reference, whether a client certificate is given; never a key. Empty without TLS. */
export function describeTls(given: boolean | ConnectorTlsOptions | undefined): string {
  if (!given) return '';
  const tls = given === true ? {} : given;
  const parts = [tls.ca === undefined ? 'system CAs' : `ca ${describePem(tls.ca)}`];
  if (tls.cert !== undefined) parts.push(`client cert ${describePem(tls.cert)}`);
  if (tls.rejectUnauthorized === false) parts.push('unverified');
  return `, tls (${parts.join(', ')})`;
}

function describePem(pem: Secret): string {
  if (typeof pem === 'string' && pem.includes('-----BEGIN')) return '(inline PEM)';
  return describeSecret(pem);
}

/**
 * Reads TLS options when the connector opens: each PEM field resolved (a reference read,
 * then a value without `-----BEGIN` read as a file path). SECRET_UNRESOLVED names the
 * field and the variable or file, never a value.
 */
export async function loadTls(tls: ConnectorTlsOptions | undefined, who: string): Promise<LoadedTls | undefined> {
  if (!tls) return undefined;
  const out: LoadedTls = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (tls.servername !== undefined) out.servername = tls.servername;
  for (const field of PEM_FIELDS) {
    const given = tls[field];
    if (given === undefined) continue;
    const value = await resolveSecret(given, `${who}: tls.${field}`);
    out[field] = field === 'passphrase' || value.includes('-----BEGIN') ? value : await readPemFile(value, `${who}: tls.${field}`);
  }
  return out;
}

async function readPemFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SluiceError('SECRET_UNRESOLVED', `${what}: the file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: 'Give PEM text, the path of a readable PEM file, or { env } / { file } naming one.',
    });
  }
  if (!text.includes('-----BEGIN')) throw new SluiceError('SECRET_UNRESOLVED', `${what}: the file ${path} holds no PEM block (-----BEGIN …)`);
  return text;
}
