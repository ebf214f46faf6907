/**
 * `npm run bench:cluster`: Sluice's cluster mode beside Kafka Streams, on the same broker
 * in the same run (issue 16).
 *
 * 1. Throughput: a keyed 1 s tumbling event-time window count, Kafka → engine → Kafka,
 *    exactly-once, over N seeded records on 4 partitions not partitioned by key. Sluice
 *    as 1 `sluice run --cluster` process of 1 thread, 1 of 2 threads, 2 and 3 of 1 thread; Kafka Streams (exactly_once_v2) as
 *    1 instance of 1 thread, 1 of 2 threads, 2 and 3 instances of 1 thread. Every run's
 *    output is reconciled with a batch count of the same records (missing / doubled /
 *    wrong). Table: records/s, records per CPU-second, and Sluice / Kafka Streams.
 * 2. Failover: 2 Sluice members on continuous input, one killed with SIGKILL: time until
 *    the output moves again for the killed member's tasks.
 * 3. Restore: a member takes over K keyed state entries from the changelog topics:
 *    entries/s.
 *
 * Options: --records N (1,000,000), --keys N (1,000), --event-rate R (20,000 records per
 * second of event time), --disorder-ms D (500), --lateness-ms L (30,000: Kafka Streams' grace and
 * Sluice's watermark delay), --commit-ms C (1,000: both engines' commit interval), --seed S,
 * --sluice 1x1,1x2,2x1,3x1 and --ks 1x1,1x2,2x1,3x1 (instances×threads; Sluice's threads are
 * `--parallelism`, Kafka Streams' `num.stream.threads`), --ks-store memory|rocksdb,
 * --only throughput,failover,restore, --failover-rate R (records/s, 5,000),
 * --failover-timeouts S[,S…] (the members' session and transaction timeouts in seconds, 10 and 6: one failover run each),
 * --failover-standbys N[,N…] (standby replicas per task, 0 and 1: one failover run per timeout and count),
 * --restore-keys K[,K…] (100,000 and 500,000: one restore run each), --brokers B (127.0.0.1:9092), --keep-topics (leave each run's
 * topics on the broker, to look into a wrong result). The engines' logs of each run are
 * kept in .sluice/bench-cluster/<run>/.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Broker, ensureBroker } from './broker.js';
import { runFailover } from './failover.js';
import { bodyRecords, spanMs, type InputSpec } from './input.js';
import { ensurePeerBuilt, peerContender } from './peer-runner.js';
import { batchCounts, formatReconciled } from './reconcile.js';
import { runRestore } from './restore.js';
import { sluiceContender } from './sluice-runner.js';
import { printThroughputTable } from './table.js';
import { runThroughput, type Contender, type RunResult } from './throughput.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '1000' },
    'event-rate': { type: 'string', default: '20000' },
    'disorder-ms': { type: 'string', default: '500' },
    'lateness-ms': { type: 'string', default: '30000' },
    'commit-ms': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    sluice: { type: 'string', default: '1x1,1x2,2x1,3x1' },
    ks: { type: 'string', default: '1x1,1x2,2x1,3x1' },
    'ks-store': { type: 'string', default: 'memory' },
    only: { type: 'string', default: 'throughput,failover,restore' },
    'failover-rate': { type: 'string', default: '5000' },
    'failover-timeouts': { type: 'string', default: '10,6' },
    'failover-standbys': { type: 'string', default: '0,1' },
    'restore-keys': { type: 'string', default: '100000,500000' },
    brokers: { type: 'string', default: '127.0.0.1:9092' },
    'keep-topics': { type: 'boolean', default: false },
  },
  strict: true,
});

function int(name: keyof typeof values): number {
  const text = String(values[name]).replace(/_/g, '');
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got '${text}'`);
  return n;
}

const brokers = values.brokers;
const latenessMs = int('lateness-ms');
const commitMs = int('commit-ms');
const store = values['ks-store'] === 'rocksdb' ? 'rocksdb' : 'memory';
const parts = new Set(values.only.split(','));
const spec: InputSpec = {
  records: int('records'),
  keys: int('keys'),
  partitions: 4,
  perSecond: int('event-rate'),
  disorderMs: int('disorder-ms'),
  seed: int('seed'),
  startMs: Date.UTC(2026, 0, 1),
};
if (spec.disorderMs > latenessMs) throw new Error('--disorder-ms must not exceed --lateness-ms: records would be late by construction');

console.log(`command: ${[process.execPath, ...process.execArgv, ...process.argv.slice(1)].join(' ')}`);
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, broker ${brokers}`);
ensureBroker();
const broker = new Broker(brokers);

try {
  if (parts.has('throughput')) {
    ensurePeerBuilt();
    const expected = batchCounts((function* () {
      for (const r of bodyRecords(spec)) yield r.event;
    })());
    console.log(
      `\n1. Throughput: ${spec.records.toLocaleString('en-US')} records {key, ts, value} round-robin on ${spec.partitions} partitions, ${spec.keys.toLocaleString('en-US')} keys, ` +
        `${spec.perSecond.toLocaleString('en-US')} per second of event time (${(spanMs(spec) / 1000).toFixed(0)} s) with disorder up to ${spec.disorderMs} ms (seed ${spec.seed}); 1 s tumbling windows, lateness ${latenessMs} ms ` +
        `(Kafka Streams grace = Sluice watermark delay), commit every ${commitMs} ms, exactly-once; ${expected.size.toLocaleString('en-US')} windows expected`,
    );
    // instances×threads; a plain number is that many single-thread instances.
    const layouts = (list: string) => list.split(',').filter(Boolean).map((s) => (s.includes('x') ? s.split('x').map(Number) : [Number(s), 1]) as [number, number]);
    const sluice = layouts(values.sluice);
    const ks = layouts(values.ks);
    // Interleaved by size, so that the machine's drift hits both engines alike.
    const contenders: Contender[] = [];
    for (const n of [...new Set([...sluice, ...ks].map(([i, t]) => i * t))].sort((a, b) => a - b)) {
      for (const [i, t] of sluice) if (i * t === n) contenders.push(sluiceContender(i, t, { brokers, latenessMs, checkpointMs: commitMs }));
      for (const [i, t] of ks) if (i * t === n) contenders.push(peerContender(i, t, { brokers, graceMs: latenessMs, commitMs, store }));
    }
    const results: RunResult[] = [];
    for (const c of contenders) {
      const r = await runThroughput(broker, c, { brokers, spec, latenessMs, expected, quietMs: 2000, stallMs: 60_000, quietStallMs: 20_000, keepTopics: values['keep-topics'] });
      results.push(r);
      const fmt = (x: number | undefined, d = 1) => (x === undefined ? '–' : x.toFixed(d));
      console.log(
        `  ${r.engine} ${r.instances}×${r.threads}: complete after ${fmt(r.seconds)} s (input committed after ${fmt(r.bodyCommittedAfter)} s, first output after ${fmt(r.firstOutputAfter)} s), CPU ${fmt(r.cpuSeconds)} s`,
      );
      console.log(`  ${formatReconciled(r.reconciled).replace(/\n/g, '\n  ')}`);
      for (const p of r.problems) console.log(`  PROBLEM: ${p.replace(/\n/g, '\n  ')}`);
    }
    printThroughputTable(results);
    for (const r of results) console.log(JSON.stringify({ suite: 'cluster', workload: 'window-count-exactly-once', ...r, problems: r.problems.length }));
  }
  if (parts.has('failover')) {
    for (const seconds of values['failover-timeouts'].split(',').map(Number)) {
      for (const standbys of values['failover-standbys'].split(',').map(Number)) {
        await runFailover(broker, { brokers, rate: int('failover-rate'), keys: spec.keys, checkpointMs: commitMs, seed: spec.seed, keepTopics: values['keep-topics'], timeoutMs: seconds * 1000, standbys });
      }
    }
  }
  if (parts.has('restore')) {
    for (const keys of values['restore-keys'].split(',').filter(Boolean).map(Number)) await runRestore(broker, { brokers, keys, checkpointMs: commitMs });
  }
} finally {
  await broker.close();
}
