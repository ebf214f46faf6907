import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTlsOptions, describeTls, loadTls } from '../../../src/connectors/shared/tls-files.js';
import { authFailure, classifyAuthFailure } from '../../../src/connectors/shared/tls-error.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
const pemFile = join(dir, 'ca.pem');
writeFileSync(pemFile, PEM);
writeFileSync(join(dir, 'not.pem'), 'hello');

describe('TLS options of the connectors', () => {
  it('reads each PEM field as text, a path, a variable or a file reference', async () => {
    process.env.SLUICE_TEST_TLS_PEM = PEM;
    process.env.SLUICE_TEST_TLS_PATH = pemFile;
    for (const ca of [PEM, pemFile, { env: 'SLUICE_TEST_TLS_PEM' }, { env: 'SLUICE_TEST_TLS_PATH' }, { file: pemFile }]) {
      // A file reference's last newline is dropped (see resolveSecret): not part of the PEM.
      const loaded = await loadTls({ ca }, 'test');
      expect({ ...loaded, ca: loaded?.ca?.trimEnd() }).toEqual({ ca: PEM.trimEnd(), rejectUnauthorized: true });
    }
    expect(await loadTls({ cert: PEM, key: PEM, passphrase: 'pw', servername: 'h', rejectUnauthorized: false }, 'test')).toEqual({ cert: PEM, key: PEM, passphrase: 'pw', servername: 'h', rejectUnauthorized: false });
    expect(await loadTls(undefined, 'test')).toBeUndefined();
  });

  it('a file that is missing or holds no PEM is SECRET_UNRESOLVED naming the connector and field', async () => {
    await expect(loadTls({ ca: join(dir, 'missing.pem') }, "redis sink 'x'")).rejects.toThrow(/SECRET_UNRESOLVED.*redis sink 'x': tls.ca: the file .*missing.pem cannot be read \(ENOENT\)/);
    await expect(loadTls({ ca: join(dir, 'not.pem') }, 'test')).rejects.toThrow(/holds no PEM block/);
  });

  it('checks shapes when the connector is built, and describes without keys', () => {
    expect(checkTlsOptions(true, 'w')).toEqual({});
    expect(checkTlsOptions(undefined, 'w')).toBeUndefined();
    expect(() => checkTlsOptions('yes', 'w')).toThrow(/w: tls must be true or/);
    expect(() => checkTlsOptions({ key: PEM }, 'w')).toThrow(/tls.cert and tls.key go together/);
    expect(() => checkTlsOptions({ rejectUnauthorized: 'no' }, 'w')).toThrow(/rejectUnauthorized must be a boolean/);
    expect(describeTls({ ca: pemFile, cert: PEM, key: 'SECRETKEY' })).toBe(`, tls (ca ${pemFile}, client cert (inline PEM))`);
    expect(describeTls(true)).toBe(', tls (system CAs)');
    expect(describeTls(undefined)).toBe('');
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
