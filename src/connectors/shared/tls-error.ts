import { SluiceError } from '../../errors/index.js';
import { redactSecrets } from '../../errors/redact.js';
import { scrubSecrets } from '../../errors/secret.js';
import { errorsWithin } from '../../net/tls.js';

/** What kept a connector from a secure, authenticated connection. */
export type AuthFailureKind = 'unknown-ca' | 'wrong-host' | 'expired' | 'client-certificate' | 'handshake' | 'credentials';

// Node's verification codes (OpenSSL's, as `err.code`) for a chain that ends in a CA not trusted here.
const UNKNOWN_CA = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** Refusals of credentials, as the servers word them (NATS, Redis, PostgreSQL, Mosquitto). */
const REFUSED_CREDENTIALS = /authorization violation|authentication (?:failed|timeout)|WRONGPASS|NOAUTH|invalid username-password|password authentication failed|bad user ?name or password|not authori[sz]ed|no pg_hba\.conf entry|certificate authentication failed|user .* is disabled|invalid token/i;

const SAYS: Record<AuthFailureKind, string> = {
  'unknown-ca': "the server's certificate is signed by a CA this client does not trust",
  'wrong-host': "the server's certificate does not name the host connected to",
  expired: "the server's certificate has expired (or is not valid yet)",
  'client-certificate': 'the server refused the client certificate',
  handshake: 'the TLS handshake failed',
  credentials: 'the server refused the credentials',
};

const HINTS: Record<AuthFailureKind, string> = {
  'unknown-ca': "Give the CA that signed the server's certificate as `tls.ca` (PEM, a path, or { env } / { file }).",
  'wrong-host': "Connect by a name the certificate lists (see the detail), or set `tls.servername` to one.",
  expired: "Renew the server's certificate (and check this machine's clock).",
  'client-certificate': "Give a client certificate (`tls.cert`, `tls.key`) signed by a CA the server trusts, valid now, whose name is the database user.",
  handshake: 'Check that the port speaks TLS and that client and server share a protocol version and cipher.',
  credentials: 'Fix the user name and password, token, key or client certificate (the message never shows them).',
};

/** A URL's scheme, host and port, for messages: never its user or password. */
export function urlPlace(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(the url)';
  }
}

/**
 * Which {@link AuthFailureKind} an error from a client library is, if any: by Node's TLS
 * codes, OpenSSL's alerts, PostgreSQL's SQLSTATE 28xxx, MQTT's CONNACK codes and the
 * servers' wording of refused credentials. Undefined for anything else (a refused
 * connection, a timeout): those are the connector's ordinary failures. (`net/tls.ts`'s
 * `tlsFailure` says the same of TLS alone, for the Kafka client and the servers.)
 */
export function classifyAuthFailure(e: unknown): AuthFailureKind | undefined {
  for (const err of errorsWithin(e)) {
    const code = err.code;
    const message = typeof err.message === 'string' ? err.message : '';
    if (typeof code === 'string') {
      if (UNKNOWN_CA.has(code)) return 'unknown-ca';
      if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'wrong-host';
      if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'expired';
      if (code === '28P01' || code === '28000') return /certificate/i.test(message) ? 'client-certificate' : 'credentials';
    }
    if (/alert (?:certificate expired|bad certificate|unknown ca|certificate required|certificate unknown|certificate revoked)/i.test(message)) return 'client-certificate';
    // MQTT CONNACK refusals: 4/5 (3.1.1), 134/135 (5.0): bad user name or password, not authorised.
    if (typeof code === 'number' && [4, 5, 134, 135].includes(code)) return 'credentials';
    if (REFUSED_CREDENTIALS.test(message)) return 'credentials';
    if (typeof code === 'string' && (code.startsWith('ERR_SSL_') || code === 'EPROTO')) return 'handshake';
  }
  return undefined;
}

/**
 * The error for `e` when it is a TLS or authentication failure (see
 * {@link classifyAuthFailure}), else undefined: CONNECTOR_AUTH for refused credentials,
 * CONNECTOR_TLS for a certificate or handshake that failed. The message names the connector (`who`,
 * such as "redis sink 'cache'"), where it connected and what failed; the detail holds the
 * client library's words with `secrets` hidden.
 *
 * @example
 * throw authFailure(`nats source '${uid}'`, '127.0.0.1:4222', e, [password]) ?? new SluiceError('SOURCE_FAILED', …);
 */
export function authFailure(who: string, target: string, e: unknown, secrets: readonly string[] = [], step?: string): SluiceError | undefined {
  const kind = classifyAuthFailure(e);
  if (!kind) return undefined;
  const words = [...errorsWithin(e)].map((x) => (typeof x.message === 'string' ? x.message : '')).find((m) => m !== '') ?? String(e);
  return new SluiceError(kind === 'credentials' ? 'CONNECTOR_AUTH' : 'CONNECTOR_TLS', `${who}: cannot connect to ${redactSecrets(target)}: ${SAYS[kind]}`, {
    detail: scrubSecrets(words, secrets),
    hint: HINTS[kind],
    ...(step === undefined ? {} : { step }),
  });
}
