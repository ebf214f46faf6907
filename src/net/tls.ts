/**
 * TLS options shared by the connectors, the schema registry client and the servers: what a
 * user writes (PEM text, a file path, or a secret reference for each of `ca`, `cert`,
 * `key`), what Node's `tls` takes (read when the connector opens, never when the job is
 * built, so `explain()` and the REST views only ever see paths and references), and one
 * clear error for a handshake that fails ({@link tlsFailure}).
 *
 * Pinned by `test/connectors/kafka/tls.test.ts`, `test/server/tls.test.ts` and
 * `test/connectors/http/tls.test.ts` (real TLS servers, certificates made by
 * `scripts/tls/make-certs.sh`).
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server, type ServerOptions as HttpServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';
import { SluiceError } from '../errors/index.js';
import { isSecretRef, resolveSecretSync, type Secret, type SecretRef } from '../errors/secret.js';

/**
 * A certificate or key: PEM text (`-----BEGIN …`), the path of a PEM file, or a secret
 * reference (`{ env: NAME }`, `{ file: PATH }`) whose value is PEM text.
 */
export type PemSource = string | SecretRef;

/**
 * How a client speaks TLS to a service: whom it trusts and, for mutual TLS, who it is.
 * `true` in a connector's `tls` option means TLS with the system's CAs and nothing else.
 *
 * @example
 * kafkaSource({ brokers: 'kafka:9093', topic: 't', groupId: 'g',
 *   tls: { ca: '/etc/ssl/kafka-ca.pem', cert: '/run/secrets/client.pem', key: { file: '/run/secrets/client.key' } } });
 */
export interface TlsOptions {
  /** The CAs to trust instead of the system's (one or several PEM sources). */
  ca?: PemSource | readonly PemSource[];
  /** The client certificate chain (mutual TLS), with {@link key}. */
  cert?: PemSource;
  /** The client certificate's private key (mutual TLS), with {@link cert}. */
  key?: PemSource;
  /** The passphrase of an encrypted {@link key}. */
  passphrase?: Secret;
  /** The host name the server's certificate must name (SNI too), when it is not the one connected to. */
  servername?: string;
  /**
   * Whether a server whose certificate does not verify (unknown CA, wrong host, expired) is
   * refused. Default true; `false` accepts any certificate, which gives up the protection
   * TLS exists for: only for a test server, never in production.
   */
  rejectUnauthorized?: boolean;
}

/**
 * How a server (the REST API, HTTP ingest) speaks TLS: its certificate and key, and for
 * mutual TLS the CAs whose client certificates it accepts.
 *
 * @example
 * new Job({ server: { tls: { cert: '/etc/sluice/tls.crt', key: { file: '/etc/sluice/tls.key' }, ca: '/etc/sluice/clients-ca.pem' } } });
 */
export interface ServerTlsOptions {
  /** The server's certificate chain. */
  cert: PemSource;
  /** The server certificate's private key. */
  key: PemSource;
  /** The passphrase of an encrypted {@link key}. */
  passphrase?: Secret;
  /**
   * Mutual TLS: the CAs whose client certificates are accepted. With it, a client that
   * shows no certificate, or one of another CA, is refused during the handshake.
   */
  ca?: PemSource | readonly PemSource[];
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

function pemOf(text: string, where: string, what: string, origin: string): string {
  if (!PEM.test(text)) throw new SluiceError('INVALID_ARGUMENT', `${where}: tls.${what} (${origin}) is not PEM: no "-----BEGIN" line`, { hint: 'Give PEM text, the path of a PEM file, or a secret reference ({ env } / { file }) whose value is PEM.' });
  return text;
}

function describeSource(source: PemSource): string {
  return typeof source === 'string' ? (PEM.test(source) ? 'inline PEM' : source) : 'env' in source ? `{env ${source.env}}` : `{file ${source.file}}`;
}

/** The PEM text of a source (small files: read synchronously, at open). */
function readPem(source: PemSource, where: string, what: string): string {
  if (isSecretRef(source)) return pemOf(resolveSecretSync(source, `${where} tls.${what}`), where, what, describeSource(source));
  if (typeof source !== 'string' || source === '') throw new SluiceError('INVALID_ARGUMENT', `${where}: tls.${what} must be PEM text, a file path or a secret reference`);
  if (PEM.test(source)) return source;
  try {
    return pemOf(readFileSync(source, 'utf8'), where, what, source);
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    throw new SluiceError('INVALID_ARGUMENT', `${where}: tls.${what} file ${source} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

const list = (ca: PemSource | readonly PemSource[]): readonly PemSource[] => (Array.isArray(ca) ? (ca as readonly PemSource[]) : [ca as PemSource]);

/** Checks a client `tls` option's shape when the connector is built (nothing is read yet). */
export function checkTlsOptions(tls: TlsOptions | boolean | undefined, where: string): void {
  if (tls === undefined || typeof tls === 'boolean') return;
  if (typeof tls !== 'object' || tls === null) throw new SluiceError('INVALID_ARGUMENT', `${where}: tls must be true, false or { ca?, cert?, key?, passphrase?, servername?, rejectUnauthorized? }`);
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new SluiceError('INVALID_ARGUMENT', `${where}: tls.cert and tls.key go together (mutual TLS): give both or neither`);
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || tls.servername === '')) throw new SluiceError('INVALID_ARGUMENT', `${where}: tls.servername must be a host name`);
}

/**
 * The `node:tls` options of a client `tls` option, its files and secrets read now
 * (`undefined` for no TLS). `rejectUnauthorized` is true unless set false.
 */
export function clientTls(tls: TlsOptions | boolean | undefined, where: string): ConnectionOptions | undefined {
  checkTlsOptions(tls, where);
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return { rejectUnauthorized: true };
  const out: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized !== false };
  if (tls.ca !== undefined) out.ca = list(tls.ca).map((c) => readPem(c, where, 'ca'));
  if (tls.cert !== undefined) out.cert = readPem(tls.cert, where, 'cert');
  if (tls.key !== undefined) out.key = readPem(tls.key, where, 'key');
  if (tls.passphrase !== undefined) out.passphrase = resolveSecretSync(tls.passphrase, `${where} tls.passphrase`);
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}

/**
 * The `node:https` server options of a {@link ServerTlsOptions}, read now (a server starts
 * synchronously from its options; a missing file fails the start, not a request later).
 * With `ca`, clients must show a certificate of one of those CAs.
 */
export function serverTls(tls: ServerTlsOptions, where: string): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  if (typeof tls !== 'object' || tls === null || tls.cert === undefined || tls.key === undefined) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: tls needs cert and key (PEM text, file paths or secret references)`);
  }
  const mutual = tls.ca !== undefined;
  return {
    cert: readPem(tls.cert, where, 'cert'),
    key: readPem(tls.key, where, 'key'),
    ...(tls.passphrase === undefined ? {} : { passphrase: resolveSecretSync(tls.passphrase, `${where} tls.passphrase`) }),
    ...(mutual ? { ca: list(tls.ca!).map((c) => readPem(c, where, 'ca')) } : {}),
    requestCert: mutual,
    rejectUnauthorized: mutual,
  };
}

/**
 * A `node:http` server, or `node:https` with the TLS options given ({@link serverTls}): the
 * REST API and HTTP ingest serve either way with the same request handling.
 */
export function createHttpServer(limits: HttpServerOptions, tls: ReturnType<typeof serverTls> | undefined, handle: RequestListener): Server {
  return tls ? createHttpsServer({ ...limits, ...tls }, handle) : createServer(limits, handle);
}

/** Node's and OpenSSL's codes of a certificate the client does not trust, and what each means. */
const UNTRUSTED: Record<string, string> = {
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another host name",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is signed by a CA this client does not trust (unknown CA)",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is signed by a CA this client does not trust (unknown CA)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is signed by a CA this client does not trust (unknown CA)",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a CA this client does not trust (unknown CA)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and not trusted (unknown CA)",
  CERT_SIGNATURE_FAILURE: "the server's certificate signature does not verify",
  CERT_REVOKED: "the server's certificate is revoked",
};

/** An error as found inside another: any of these may be missing. */
export interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  reason?: unknown;
}

/** The errors inside `e`: itself, its causes and the errors it aggregates, depth first (client libraries wrap a socket's error two or three deep). */
export function* errorsWithin(e: unknown, depth = 0): Generator<ErrorLike> {
  if (!e || typeof e !== 'object' || depth > 8) return;
  const err = e as ErrorLike;
  yield err;
  yield* errorsWithin(err.cause, depth + 1);
  if (Array.isArray(err.errors)) for (const inner of err.errors) yield* errorsWithin(inner, depth + 1);
}

/**
 * What a TLS handshake failure inside `e` says, in words (undefined when `e` is no TLS
 * failure): an untrusted certificate (unknown CA, wrong host, expired) or a handshake the
 * other side refused (a client certificate it wanted, a protocol it does not speak).
 */
export function tlsFailureReason(e: unknown): string | undefined {
  for (const err of errorsWithin(e)) {
    const code = typeof err.code === 'string' ? err.code : '';
    const message = typeof err.message === 'string' ? err.message : '';
    if (code in UNTRUSTED) return `${UNTRUSTED[code]}${code === 'ERR_TLS_CERT_ALTNAME_INVALID' && typeof err.reason === 'string' ? ` (${err.reason})` : ''} [${code}]`;
    if (code.startsWith('ERR_SSL_') || /ssl\/tls alert|alert number|wrong version number|handshake/i.test(message)) {
      const certRequired = /certificate required|alert number 116|bad certificate|alert number 42/i.test(message) || /CERTIFICATE_REQUIRED|BAD_CERTIFICATE/.test(code);
      return certRequired ? `the server refused the handshake: it wants a client certificate of a CA it trusts (mutual TLS) [${code || 'alert'}]` : `the TLS handshake failed: ${message || code}`;
    }
  }
  return undefined;
}

/**
 * A {@link SluiceError} `CONNECTOR_TLS` for a TLS failure inside `e`, naming the connector
 * (`where`) and the server (`target`); undefined when `e` is no TLS failure.
 *
 * @example
 * const failure = tlsFailure(e, "step 'in' (kafka source, topic t)", '127.0.0.1:9093');
 * if (failure) throw failure;
 */
export function tlsFailure(e: unknown, where: string, target: string, step?: string): SluiceError | undefined {
  const reason = tlsFailureReason(e);
  if (reason === undefined) return undefined;
  return new SluiceError('CONNECTOR_TLS', `${where}: TLS to ${target} failed: ${reason}`, { cause: e, step });
}
