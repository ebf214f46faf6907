/**
 * `npm run bench`: Sluice beside hand-written loops doing the same work, in one process
 * and one run; prints events per second, the ratio Sluice/loop against its target, heap
 * after each Sluice run, and one JSON line per workload.
 *
 * Options: `--only name[,name]` (workload names, e.g. `map-filter`), `--events N`
 * (default 5,000,000 per workload), `--runs N` (default 3), `--no-warmup`.
 * Add a suite by writing `bench/<suite>.ts` exporting a {@link Suite} and listing it here.
 */
import { coreSuite } from './core.js';
import { joinsSuite } from './joins.js';
import { printWindowCosts, windowsSuite } from './windows.js';
import { preAggregateSuite, printPreAggregateRatio } from './pre-aggregate.js';
import { parseOptions, printHeader, printJsonLines, printTable, runSuite, type Suite, type WorkloadResult } from './harness.js';

const suites: readonly Suite[] = [coreSuite, joinsSuite, windowsSuite, preAggregateSuite];

// `npm run bench -- kafka [--records N] [--checkpoint ms]`: Kafka → Sluice → Kafka beside Kafka's
// own perf tools on a real broker (bench/kafka.ts); it runs alone, not with the loop suites.
if (process.argv[2] === 'kafka') {
  const { runKafkaBench } = await import('./kafka.js');
  await runKafkaBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- connectors [--records N] [--only rabbitmq]`: RabbitMQ sources and sink beside an amqplib loop, NATS JetStream and Redis Streams source rates, on the real services.
if (process.argv[2] === 'connectors') {
  const { runConnectorsBench } = await import('./connectors.js');
  await runConnectorsBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- state [--keys N] [--events N] [--cache N] [--only memory,lmdb,rocksdb,redis]`:
// the keyed state backends in one table (keyed count, checkpoint each second, recovery), Redis the real one.
if (process.argv[2] === 'state') {
  const { runStateBench } = await import('./state.js');
  await runStateBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- async [--records N]`: asyncMap enrichment from the real Redis beside a hand-written loop, the breaker's cost, a warm lookup join, cold lookup joins over Redis, PostgreSQL and HTTP beside loops.
if (process.argv[2] === 'async') {
  await import('./async.js');
  process.exit(0);
}

// `npm run bench -- sinks [--records N] [--events N] [--runs N] [--only postgres,influxdb,cassandra,rollup]`: the PostgreSQL time-series, InfluxDB and Cassandra sinks beside hand-written client loops, and rollup() beside one tumbling aggregate (bench/sinks.ts).
if (process.argv[2] === 'sinks') {
  const { runSinksBench } = await import('./sinks.js');
  await runSinksBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- tls [--records N] [--runs N] [--only kafka|http]`: Kafka and HTTP ingest over TLS beside plaintext, ratios (bench/tls.ts).
if (process.argv[2] === 'tls') {
  const { runTlsBench } = await import('./tls.js');
  await runTlsBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- privacy [--records N]`: mask vs a plain map, encryptFields fields/s, tokenize with a warm cache (bench/privacy.ts).
if (process.argv[2] === 'privacy') {
  await import('./privacy.js');
  process.exit(0);
}

const options = parseOptions(process.argv.slice(2));
const known = suites.flatMap((s) => s.workloads.map((w) => w.name));
const unknown = options.only?.filter((name) => !known.includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown workload(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}

printHeader(options);
const results: WorkloadResult[] = [];
for (const suite of suites) results.push(...(await runSuite(suite, options)));
printTable(results);
printWindowCosts(results);
await printPreAggregateRatio(results);
printJsonLines(results);
