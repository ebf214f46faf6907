import { describeSecret } from '../../errors/secret.js';
import type { PemSource, TlsOptions } from '../../net/tls.js';

/**
 * How a connector's TLS option shows in `describe()` (`, tls (ca /etc/ssl/ca.pem)`): the
 * CA's path or reference, whether a client certificate is given; never a key. Empty without TLS.
 */
export function describeTls(given: boolean | TlsOptions | undefined): string {
  if (!given) return '';
  const tls = given === true ? {} : given;
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? (tls.ca as readonly PemSource[]) : [tls.ca as PemSource];
  const parts = [cas.length === 0 ? 'system CAs' : `ca ${cas.map(describePem).join(' ')}`];
  if (tls.cert !== undefined) parts.push(`client cert ${describePem(tls.cert)}`);
  if (tls.rejectUnauthorized === false) parts.push('unverified');
  return `, tls (${parts.join(', ')})`;
}

function describePem(pem: PemSource): string {
  if (typeof pem === 'string' && pem.includes('-----BEGIN')) return '(inline PEM)';
  return describeSecret(pem);
}
