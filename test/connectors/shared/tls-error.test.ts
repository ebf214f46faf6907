import { describe, expect, it } from 'vitest';
import { describeTls } from '../../../src/connectors/shared/describe-tls.js';
import { authFailure, classifyAuthFailure } from '../../../src/connectors/shared/tls-error.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const pemFile = '/etc/ssl/ca.pem';

describe('how TLS options show, and what kept a connection from being secure', () => {
  it('describes TLS options without keys', () => {
    expect(describeTls({ ca: pemFile, cert: PEM, key: 'SECRETKEY' })).toBe(`, tls (ca ${pemFile}, client cert (inline PEM))`);
    expect(describeTls(true)).toBe(', tls (system CAs)');
    expect(describeTls(undefined)).toBe('');
    expect(describeTls({ ca: [pemFile, { env: 'OTHER_CA' }] })).toBe(`, tls (ca ${pemFile} {env OTHER_CA})`);
  });

  it('classifies what kept a connection from being secure and authenticated', () => {
    const err = (code: unknown, message = 'x') => Object.assign(new Error(message), { code });
    expect(classifyAuthFailure(err('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('unknown-ca');
    expect(classifyAuthFailure(err('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('wrong-host');
    expect(classifyAuthFailure(err('CERT_HAS_EXPIRED'))).toBe('expired');
    expect(classifyAuthFailure(err('ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'sslv3 alert certificate expired'))).toBe('client-certificate');
    expect(classifyAuthFailure(err('28P01', 'password authentication failed for user "a"'))).toBe('credentials');
    expect(classifyAuthFailure(err(5, 'Connection refused: Not authorized'))).toBe('credentials');
    expect(classifyAuthFailure(new Error('x', { cause: err('CERT_HAS_EXPIRED') }))).toBe('expired');
    expect(classifyAuthFailure(err('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeUndefined();
    expect(authFailure('w', 'h:1', err('ECONNREFUSED'))).toBeUndefined();
    const e = authFailure("nats sink 'n'", 'nats://u:pw12@h:1', err(undefined, 'Authorization Violation for pw12'), ['pw12'], 'n')!;
    expect(e.code).toBe('CONNECTOR_AUTH');
    expect(e.message).toMatch(/nats sink 'n': cannot connect to nats:\/\/u:\*\*\*@h:1: the server refused the credentials/);
    expect(e.message).not.toContain('pw12');
  });
});
