/**
 * The OpenSearch sink against a real OpenSearch 2.19 node (127.0.0.1:9200, started by
 * scripts/opensearch/start.sh from Maven Central): the shared sink suite (exactly-once by
 * idempotence through a job that fails once), deletes, time-based indices with retention
 * (index lifecycle), and bad input.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSearchSink } from '../../../src/connectors/opensearch/index.js';
import { exponentialBackoff } from '../../../src/resilience/retry.js';
import { describeSink, testSinkContext } from '../../../src/testing/index.js';
import { ManualClock } from '../../../src/time/clock.js';
import { ensureOpenSearch, OPENSEARCH_SETUP_TIMEOUT_MS } from '../../setup/opensearch.js';

const URL = 'http://127.0.0.1:9200';
const run = `sluice-${randomUUID().slice(0, 8)}`;
let seq = 0;
const fresh = () => `${run}-${seq++}`;

beforeAll(() => ensureOpenSearch(), OPENSEARCH_SETUP_TIMEOUT_MS);
afterAll(async () => {
  await fetch(`${URL}/${run}-*`, { method: 'DELETE' }).catch(() => {});
});

async function docs(index: string): Promise<unknown[]> {
  await fetch(`${URL}/${index}/_refresh`, { method: 'POST' });
  const res = await fetch(`${URL}/${index}/_search?size=10000`);
  if (res.status === 404) return [];
  const json = (await res.json()) as { hits: { hits: Array<{ _source: unknown }> } };
  return json.hits.hits.map((h) => h._source);
}

async function indices(pattern: string): Promise<string[]> {
  const res = await fetch(`${URL}/_cat/indices/${pattern}?format=json&h=index`);
  return ((await res.json()) as Array<{ index: string }>).map((r) => r.index).sort();
}

interface Rec {
  id: number;
  name: string;
  gone?: boolean;
}
const make = (i: number): Rec => ({ id: i, name: `n${i}` });

describeSink<Rec>('openSearchSink', {
  kind: 'idempotent',
  make,
  prepare: async () => {
    const index = fresh();
    return { sink: openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), batchSize: 200 }), read: () => docs(index) };
  },
});

it('deletes by id, and the last record of an id wins within a request', async () => {
  const index = fresh();
  const w = openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), isDelete: (r) => r.gone === true }).createWriter(testSinkContext({ transactional: true }));
  await w.open!();
  const recs: Rec[] = [make(1), make(2), { id: 1, name: 'newer' }, make(3), { id: 2, name: '', gone: true }, { id: 9, name: '', gone: true }];
  await w.write(recs, recs.map(() => Number.NaN));
  await w.preCommit!(1);
  await w.close();
  expect((await docs(index)).sort((a, b) => (a as Rec).id - (b as Rec).id)).toEqual([{ id: 1, name: 'newer' }, make(3)]);
});

it('index lifecycle: one index per day of event time, and indices past the retention are deleted', async () => {
  const prefix = fresh();
  const day = 86_400_000;
  const t0 = Date.UTC(2026, 11, 1);
  const clock = new ManualClock(t0 + 5 * day + 3_600_000); // 2026-12-06 01:00
  const sink = openSearchSink<Rec>({ url: URL, index: prefix, id: (r) => String(r.id), indexPeriod: '1d', retention: '2d' });
  const w = sink.createWriter(testSinkContext({ clock }));
  await w.open!();
  const recs = [0, 1, 2, 3, 4, 5].map(make);
  await w.write(recs, recs.map((r) => t0 + r.id * day + 1000)); // one record a day, Dec 1 to Dec 6
  await w.flush!();
  await w.close();
  const names = [1, 2, 3, 4, 5, 6].map((d) => `${prefix}-2026.12.0${d}`);
  expect(await indices(`${prefix}-*`)).toEqual(names);
  expect(await docs(`${prefix}-2026.12.03`)).toEqual([make(2)]);

  // A writer opening later deletes every index whose day ended more than 2 days ago.
  const w2 = sink.createWriter(testSinkContext({ clock }));
  await w2.open!();
  await w2.close();
  expect(await indices(`${prefix}-*`)).toEqual(names.slice(3)); // Dec 4 ended Dec 5 00:00, within 2 days of Dec 6 01:00

  // Hourly indices are named by hour and minute.
  const hourly = fresh();
  const w3 = openSearchSink<Rec>({ url: URL, index: hourly, id: (r) => String(r.id), indexPeriod: '1h' }).createWriter(testSinkContext());
  await w3.open!();
  await w3.write([make(1)], [Date.UTC(2026, 11, 8, 13, 42)]);
  await w3.flush!();
  await w3.close();
  expect(await indices(`${hourly}-*`)).toEqual([`${hourly}-2026.12.08-13.00`]);
});

it('bad input: a refused document is BAD_RECORD naming its id; no timestamp with time indices, no object, bad options fail clearly; an unreachable server is SINK_FAILED after the retries', async () => {
  const index = fresh();
  const w = openSearchSink<{ id: string; n: unknown }>({ url: URL, index, id: (r) => r.id }).createWriter(testSinkContext({ transactional: true }));
  await w.open!();
  await w.write([{ id: 'a', n: 1 }], [Number.NaN]);
  await w.preCommit!(1); // maps n as a number
  await w.write([{ id: 'b', n: 'not a number' }], [Number.NaN]);
  await expect(w.preCommit!(2)).rejects.toMatchObject({ code: 'BAD_RECORD', message: expect.stringMatching(/refused document "b" \(HTTP 400\): mapper_parsing_exception/) });
  await w.close();

  const timed = openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), indexPeriod: '1d' }).createWriter(testSinkContext());
  await timed.open!();
  expect(() => timed.write([make(1)], [Number.NaN])).toThrow(expect.objectContaining({ code: 'BAD_RECORD', message: expect.stringMatching(/has no event timestamp/) }));
  const notObject = openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), document: (r) => r.name }).createWriter(testSinkContext());
  expect(() => notObject.write([make(1)], [0])).toThrow(expect.objectContaining({ code: 'BAD_RECORD', message: expect.stringMatching(/a document is a JSON object/) }));

  expect(() => openSearchSink<Rec>({ url: URL, index: 'Upper', id: (r) => String(r.id) })).toThrow(/lower-case/);
  expect(() => openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), retention: '1d' })).toThrow(/needs indexPeriod/);
  expect(() => openSearchSink<Rec>({ url: URL, index, id: (r) => String(r.id), indexPeriod: '7m' })).toThrow(/divide a day/);

  const away = openSearchSink<Rec>({ url: 'http://127.0.0.1:1', index, id: (r) => String(r.id), retry: exponentialBackoff({ initial: '1ms', max: '2ms', maxAttempts: 2 }) }).createWriter(testSinkContext());
  await away.open!();
  await away.write([make(1)], [Number.NaN]);
  await expect(away.flush!()).rejects.toMatchObject({ code: 'SINK_FAILED', message: expect.stringMatching(/attempt 2.*no answer from http:\/\/127\.0\.0\.1:1/) });
});
