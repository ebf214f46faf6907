/**
 * `npm run nexmark:verify`: every query over generated events, in order and with
 * out-of-order groups of 1000 (watermark delay covering the disorder), compared as a
 * multiset with DuckDB's batch answer over the same events. Exits 1 on any difference,
 * printing the first rows that differ.
 *
 * Options: --events N (default 200,000), --rate R (events per second of event time,
 * default 10,000: 20 s of event time), --seed S (default 7), --ooo G (default 1000),
 * --query qN (repeatable), --parallelism P (default 1: subtasks per step on worker threads).
 */
import { parseArgs } from 'node:util';
import { isQueryName, QUERY_NAMES, type QueryName } from './queries/index.js';
import { reconcile } from './reconcile.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '7' },
    ooo: { type: 'string', default: '1000' },
    query: { type: 'string', multiple: true },
    parallelism: { type: 'string', default: '1' },
  },
});
const events = Number(values.events);
const rate = Number(values.rate);
const seed = Number(values.seed);
const ooo = Number(values.ooo);
const parallelism = Number(values.parallelism);
const queries = (values.query ?? QUERY_NAMES).filter((q): q is QueryName => {
  if (!isQueryName(q)) throw new Error(`unknown query '${q}'; known: ${QUERY_NAMES.join(', ')}`);
  return true;
});

let failed = 0;
for (const g of [1, ooo]) {
  const label = g === 1 ? 'in order' : `out of order (groups of ${g})`;
  console.log(`${events.toLocaleString('en-US')} events, seed ${seed}, rate ${rate}/s of event time, ${label}, parallelism ${parallelism}`);
  const t0 = performance.now();
  const results = await reconcile({ events, rate, seed, ooo: g, queries, parallelism });
  for (const r of results) {
    console.log(`  ${r.query.padEnd(4)} ${r.equal ? 'ok  ' : 'DIFF'} stream ${String(r.streamRows).padStart(8)} rows, batch ${String(r.batchRows).padStart(8)} rows`);
    if (!r.equal) {
      failed++;
      console.log(r.diff.replace(/^/gm, '       '));
    }
  }
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(failed === 0 ? 'all queries match DuckDB' : `${failed} difference(s)`);
process.exitCode = failed === 0 ? 0 : 1;
