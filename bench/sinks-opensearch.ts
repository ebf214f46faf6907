/**
 * The OpenSearch part of `npm run bench -- sinks`: a job writing N documents through
 * `openSearchSink` (`_bulk` requests of 1,000 index actions) beside a hand-written loop of
 * `_bulk` requests over fetch with the same documents, ids and batch size, one request in
 * flight, as the sink sends them. Against the node of scripts/opensearch/start.sh
 * (127.0.0.1:9200).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Job } from '../src/launch/job.js';
import { median, reading, timed, type Reading } from './sink-readings.js';
import { generator } from '../src/connectors/generator/index.js';
import { openSearchSink } from '../src/connectors/opensearch/index.js';

const idOf = (x: Reading) => `${x.sensor}@${x.t}`;
const URL_ = 'http://127.0.0.1:9200';
const BATCH = 1000;

async function count(index: string): Promise<number> {
  await fetch(`${URL_}/${index}/_refresh`, { method: 'POST' });
  const r = (await (await fetch(`${URL_}/${index}/_count`)).json()) as { count: number };
  return r.count;
}

/** Documents per second of the sink in a job and of the hand loop, median of `runs` after one warm-up each. */
export async function openSearchBench(n: number, runs: number): Promise<{ sink: number; loop: number }> {
  const start = spawnSync('bash', [fileURLToPath(new URL('../scripts/opensearch/start.sh', import.meta.url))], { stdio: 'inherit' });
  if (start.status !== 0) throw new Error('scripts/opensearch/start.sh failed');
  const prefix = `bench-${process.pid}`;
  const rows = Array.from({ length: n }, (_, i) => reading(i));
  const out = { sink: [] as number[], loop: [] as number[] };
  try {
    for (let r = 0; r <= runs; r++) {
      const i1 = `${prefix}-sink-${r}`;
      const job = new Job({ name: 'bench-opensearch', batchSize: 1024 });
      job.source(generator({ make: reading, count: n }), { uid: 'in' }).sinkTo(openSearchSink<Reading>({ url: URL_, index: i1, id: idOf, batchSize: BATCH }), { uid: 'out' });
      const sinkRate = n / (await timed(async () => void (await job.start().done)));

      const i2 = `${prefix}-loop-${r}`;
      const loopRate =
        n /
        (await timed(async () => {
          for (let from = 0; from < n; from += BATCH) {
            const body = rows
              .slice(from, from + BATCH)
              .map((x) => `${JSON.stringify({ index: { _index: i2, _id: idOf(x) } })}\n${JSON.stringify(x)}\n`)
              .join('');
            const res = await fetch(`${URL_}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
            const answer = (await res.json()) as { errors: boolean };
            if (!res.ok || answer.errors) throw new Error(`bulk request failed: ${res.status}`);
          }
        }));
      if (r > 0) {
        out.sink.push(sinkRate);
        out.loop.push(loopRate);
      }
      for (const index of [i1, i2]) {
        const c = await count(index);
        if (c !== n) throw new Error(`${index} holds ${c} documents, expected ${n}`);
      }
    }
  } finally {
    await fetch(`${URL_}/${prefix}-*`, { method: 'DELETE' }).catch(() => {});
  }
  return { sink: median(out.sink), loop: median(out.loop) };
}
