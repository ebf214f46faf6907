/** httpLookup as the table of a lookupJoin, against a real HTTP JSON service on loopback. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, collectSink, fromCollection, httpLookup, lookupJoin, type DeadLetter } from '../../../src/index.js';

const countries: Record<string, string> = { ann: 'fr', bob: 'de', cho: 'kr' };
const requests: string[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const id = decodeURIComponent(req.url!.split('/').pop()!);
      if (req.method === 'POST' && req.url === '/users/batch') {
        const { keys } = JSON.parse(body) as { keys: string[] };
        res.setHeader('content-type', 'application/json').end(JSON.stringify(Object.fromEntries(keys.filter((k) => k in countries).map((k) => [k, { country: countries[k] }]))));
      } else if (id === 'boom') res.writeHead(503).end('down for maintenance');
      else if (id === 'html') res.setHeader('content-type', 'text/html').end('<html>');
      else if (id in countries) res.setHeader('content-type', 'application/json').end(JSON.stringify({ country: countries[id] }));
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function enrich(users: string[], lookup: ReturnType<typeof httpLookup<{ country: string }>>) {
  const job = new Job({ name: 'http-lookup' });
  const out = collectSink<string>();
  const dead = collectSink<DeadLetter>();
  lookupJoin(job.source(fromCollection(users), { uid: 'users' }), lookup, { uid: 'countries', key: (u) => u, join: (u, v) => `${u}:${v?.country ?? 'none'}`, onMiss: 'null', onError: 'dead-letter' }).sinkTo(out);
  job.deadLetters().sinkTo(dead);
  await job.run();
  return { out: out.values, dead: dead.values };
}

describe('httpLookup', () => {
  it('GETs each key once (404 is a miss), and sends records whose key the service fails on to the dead letters with LOOKUP_FAILED', async () => {
    requests.length = 0;
    const { out, dead } = await enrich(['ann', 'bob', 'ann', 'zed', 'boom', 'html', 'cho'], httpLookup({ url: (id) => `${base}/users/${encodeURIComponent(id)}` }));
    expect(out).toEqual(['ann:fr', 'bob:de', 'ann:fr', 'zed:none', 'cho:kr']);
    expect(dead.map((d) => [d.record, d.error.code])).toEqual([['boom', 'LOOKUP_FAILED'], ['html', 'LOOKUP_FAILED']]);
    expect(dead[0]!.error.message).toMatch(/answered 503 .*down for maintenance/);
    expect(dead[1]!.error.message).toMatch(/not JSON/);
    expect(requests.filter((r) => r === 'GET /users/ann')).toHaveLength(1); // the second ann is a cache hit
  });

  it('asks a batch of keys in one POST to a batch endpoint', async () => {
    requests.length = 0;
    const lookup = httpLookup<{ country: string }>({
      batch: { url: `${base}/users/batch`, values: (answer, keys) => keys.map((k) => (answer as Record<string, { country: string }>)[k]) },
    });
    const { out, dead } = await enrich(['ann', 'bob', 'zed', 'cho', 'bob'], lookup);
    expect(out).toEqual(['ann:fr', 'bob:de', 'zed:none', 'cho:kr', 'bob:de']);
    expect(dead).toEqual([]);
    expect(requests).toEqual(['POST /users/batch']);
  });

  it('needs exactly one of url and batch', () => {
    expect(() => httpLookup({})).toThrow(/either url .* or batch/);
  });
});
