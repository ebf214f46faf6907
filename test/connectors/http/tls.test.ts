import { afterEach, describe, expect, it } from 'vitest';
import { httpSource, type HttpSourceReader } from '../../../src/connectors/http/index.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { httpsRequest, makeCerts } from '../shared/tls-certs.js';

// Issue 17: HTTP ingest over HTTPS and mutual TLS.

const certs = makeCerts();
const ca = certs.pem('ca.pem');
const ndjson = { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } };
let open: HttpSourceReader<unknown> | undefined;

afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function listen(tls: Parameters<typeof httpSource>[0]['tls']): Promise<{ reader: HttpSourceReader<unknown>; url: string }> {
  const source = httpSource({ port: 0, tls });
  const reader = (open = source.createReader(testSourceContext({ maxPollWaitMs: 5 })));
  await reader.open!();
  return { reader, url: (await source.address()).url };
}

describe('httpSource with tls', () => {
  it('takes records over HTTPS at an https URL', async () => {
    const { reader, url } = await listen({ cert: certs.pem('server.pem'), key: { file: certs.path('server.key') } });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/ingest$/);
    expect(await httpsRequest(url, { ...ndjson, ca, body: '{"a":1}\n{"a":2}\n' })).toMatchObject({ status: 202 });
    expect((await reader.poll()).values).toEqual([{ a: 1 }, { a: 2 }]);
    // A client that does not trust the server's CA sends nothing.
    expect(await httpsRequest(url, { ...ndjson, body: '{"a":3}\n' })).toMatchObject({ error: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  });

  it('with a ca, takes records only from clients with a certificate of it', async () => {
    const { reader, url } = await listen({ cert: certs.path('server.pem'), key: certs.path('server.key'), ca: certs.path('ca.pem') });
    expect(await httpsRequest(url, { ...ndjson, ca, cert: certs.pem('client.pem'), key: certs.pem('client.key'), body: '{"a":1}\n' })).toMatchObject({ status: 202 });
    for (const who of [{}, { cert: certs.pem('stranger.pem'), key: certs.pem('stranger.key') }]) {
      expect(await httpsRequest(url, { ...ndjson, ca, ...who, body: '{"a":2}\n' })).toHaveProperty('error');
    }
    expect((await reader.poll()).values).toEqual([{ a: 1 }]);
  });

  it('a key that is not PEM fails the open, naming the option', async () => {
    const source = httpSource({ port: 0, tls: { cert: certs.path('server.pem'), key: certs.path('keystore-password') } });
    const reader = source.createReader(testSourceContext());
    await expect(reader.open!()).rejects.toThrow(/tls.key .*keystore-password.* is not PEM/);
    await reader.close();
  });
});
