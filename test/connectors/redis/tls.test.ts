import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { fromCollection } from '../../../src/connectors/collection/index.js';
import { redisKeyLookup, redisLookup, redisSink, redisStreamSource, type RedisConnection } from '../../../src/connectors/redis/index.js';
import type { SluiceError } from '../../../src/errors/index.js';
import { jsonFormat } from '../../../src/formats/index.js';
import { Job } from '../../../src/launch/job.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { SECURE_PASSWORD, SECURE_PORTS, SECURE_USER, ensureSecureServices, type SecureCerts, expectAuthFailure, openFailure, untilCount } from '../../setup/secure-services.js';

interface Rec {
  i: number;
}
const run = `tls_${randomUUID().slice(0, 8)}`;
const url = `rediss://127.0.0.1:${SECURE_PORTS.redis}`;
let certs: SecureCerts;
let admin: Redis;

beforeAll(async () => {
  certs = ensureSecureServices();
  admin = new Redis(url, { username: SECURE_USER, password: SECURE_PASSWORD, tls: { ca: readFileSync(certs.ca, 'utf8') } });
});
afterAll(async () => {
  const keys = await admin.keys(`${run}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

/** What opening a sink writer with these connection options threw. */
const openFails = (conn: RedisConnection): Promise<SluiceError> =>
  openFailure(redisSink<Rec>({ ...conn, target: { type: 'hash', key: (r) => `${run}:${r.i}` } }).createWriter(testSinkContext({ uid: 'secure-out' })));

describe('Redis over TLS with an ACL user', () => {
  it('a job writes hashes and another reads a stream, both over TLS as the ACL user; the lookups connect too', async () => {
    const secure = { url, tls: { ca: certs.ca }, username: SECURE_USER, password: { env: 'SLUICE_TEST_REDIS_PASSWORD' } };
    process.env.SLUICE_TEST_REDIS_PASSWORD = SECURE_PASSWORD;
    const values = Array.from({ length: 20 }, (_, i) => ({ i }));
    const write = new Job({ name: 'redis-tls-write' });
    write.source(fromCollection(values), { uid: 'in' }).sinkTo(redisSink<Rec>({ ...secure, target: { type: 'hash', key: (r) => `${run}:h:${r.i}` } }), { uid: 'out' });
    await write.run();
    expect(await admin.hgetall(`${run}:h:7`)).toEqual({ i: '7' });

    for (const v of values) await admin.xadd(`${run}:s`, '*', 'data', JSON.stringify(v));
    const read = new Job({ name: 'redis-tls-read' });
    const out = collectSink<Rec>();
    read.source(redisStreamSource<Rec>({ ...secure, stream: `${run}:s`, group: 'g', format: jsonFormat<Rec>() }), { uid: 'in' }).sinkTo(out);
    const running = read.start();
    await untilCount(() => out.count, values.length);
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i).sort((a, b) => a - b)).toEqual(values.map((v) => v.i));

    await admin.set(`${run}:k`, 'v');
    const keys = redisKeyLookup({ ...secure, name: 'keys' });
    expect(await keys.get([`${run}:k`, `${run}:none`], new AbortController().signal)).toEqual(['v', undefined]);
    await keys.close?.();
    const table = await redisLookup<string>({ ...secure, tls: { ca: readFileSync(certs.ca, 'utf8') } });
    await table.prefetch([`${run}:k`]);
    expect(table.get(`${run}:k`)).toBe('v');
    await table.close();
  });

  it.each([
    ['a wrong password', url, { ca: 'CA' }, 'not-the-password', /refused the credentials/],
    ['an unknown CA', url, true, SECURE_PASSWORD, /signed by a CA this client does not trust/],
    ['a wrong host name', `rediss://127.0.0.2:${SECURE_PORTS.redis}`, { ca: 'CA' }, SECURE_PASSWORD, /does not name the host/],
    ['an expired certificate', `rediss://127.0.0.1:${SECURE_PORTS.redisExpired}`, { ca: 'CA' }, SECURE_PASSWORD, /has expired/],
  ] as const)('%s gives CONNECTOR_AUTH or CONNECTOR_TLS naming the connector and the cause', async (_what, target, tls, password, says) => {
    const e = await openFails({ url: target, tls: typeof tls === 'object' ? { ca: certs.ca } : tls, username: SECURE_USER, password });
    expectAuthFailure(e, /redis sink 'secure-out': cannot connect to rediss:\/\/127\.0\.0\.\d:\d+: /, says);
  });

  it('a password in the URL is hidden when it is refused', async () => {
    const e = await openFails({ url: `rediss://${SECURE_USER}:wrong-secret@127.0.0.1:${SECURE_PORTS.redis}`, tls: { ca: certs.ca } });
    expect(e.code).toBe('CONNECTOR_AUTH');
    expect(e.message).not.toContain('wrong-secret');
  });

  it('refuses a user name without a password, and TLS options of the wrong shape', () => {
    expect(() => redisSink<Rec>({ username: 'u', target: { type: 'hash', key: () => 'k' } })).toThrow(/username needs a password/);
    expect(() => redisStreamSource<Rec>({ stream: 's', group: 'g', format: jsonFormat<Rec>(), tls: { key: '/k.pem' } })).toThrow(/tls.cert and tls.key go together/);
  });
});
