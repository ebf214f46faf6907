/**
 * `npm run bench:cep`: the two CEP workloads of issue 22, Sluice beside Flink CEP and Esper in
 * one run on one machine.
 *
 * - fraud: per card, three small transactions then a large one within 10 minutes
 *   (skip past the last event), over `--keys` cards (default 100,000).
 * - monitoring: per device, an A not followed by a B within 5 s (a trailing notFollowedBy:
 *   the match is emitted when the 5 s run out).
 *
 * Each key sees an event every 30 s of event time, whatever the number of keys.
 *
 * For each: throughput in event time as fast as the source goes (events/s, CPU µs per
 * event: user + system time of the process over the run, divided by events), then latency
 * in processing time at 50% of that rate: from the moment the source made the event that
 * completes a match to the moment its result reaches the sink (p50, p99, max, over
 * `--latency-seconds` of traffic, over one key per 20 events so that keys see enough events
 * to match). The monitoring pattern's matches complete by time, so its latency is measured
 * from the deadline (first event + 5 s) instead, and only A's older than 5 s at the end of
 * the run can match (processing-time timers do not fire after the end of input).
 *
 * The peers (bench/peers/flink-cep: Flink CEP 2.2.0 in a local mini-cluster at parallelism 1;
 * bench/peers/esper: Esper 8.9.0's compiled EPL on one thread, external time) make the same
 * events (bench/peers/cep-events ports the generator; a checksum of the first 100,000 events is
 * compared with this generator's) and run in their own JVM, twice: the
 * first run includes the JIT's warm-up, the second is warm. Their CPU is the JVM's process CPU
 * time over the run, and also from the JVM's start to the end of the first run. Their match
 * counts must equal Sluice's (a PROBLEM line otherwise). Latency is not measured for the peers.
 * The Java builds are made once and again when their sources change (`mvn -q package`, cached in each peer's target/).
 *
 * Options: `--events N` (default 1,000,000), `--keys N`, `--latency-seconds S` (default 10),
 * `--peers none|flink|esper|all` (default all; a peer that cannot run, e.g. without Java or
 * Maven, is skipped with the reason).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AfterMatchSkip, Job, Pattern, WatermarkStrategy, callbackSink, generator, type Match } from '../src/index.js';
import { CountingSink, indexedSource } from './io.js';
import { fingerprint, fraudEvent, monitoringEvent, type CepEvent } from './cep-events.js';
import { ensurePeer, peerChoice, peerFingerprint, printWorkloadTable, runPeer, type PeerName, type PeerResult } from './cep-peers.js';

interface Ev extends CepEvent {
  /** performance.now() when the source made it (latency runs only). */
  born: number;
}

const { values: opts } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '100000' },
    'latency-seconds': { type: 'string', default: '10' },
    peers: { type: 'string', default: 'all' },
  },
});
const EVENTS = Number(opts.events.replace(/_/g, ''));
const KEYS = Number(opts.keys.replace(/_/g, ''));
const LATENCY_SECONDS = Number(opts['latency-seconds']);
const PEERS = peerChoice(opts.peers);

const fraud = Pattern.begin<Ev, 'small'>('small', AfterMatchSkip.skipPastLastEvent())
  .where((e) => e.kind < 10)
  .times(3)
  .followedBy('large')
  .where((e) => e.kind >= 500)
  .within('10m');
const monitoring = Pattern.begin<Ev, 'a'>('a').where((e) => e.kind === 0).notFollowedBy('b').where((e) => e.kind === 1).within('5s');

interface Workload {
  readonly name: string;
  readonly pattern: Pattern<Ev, string>;
  /** Event i over `keys` keys (each key sees an event every 30 s of event time). */
  readonly make: (i: number, keys: number) => CepEvent;
  /** The time the match's result could first exist, in performance.now() terms. */
  readonly readyAt: (m: Match<Ev, string>) => number;
}

const workloads: Workload[] = [
  {
    name: 'fraud',
    pattern: fraud as Pattern<Ev, string>,
    make: fraudEvent,
    readyAt: (m) => m.large![0]!.born,
  },
  {
    name: 'monitoring',
    pattern: monitoring as Pattern<Ev, string>,
    make: monitoringEvent,
    readyAt: (m) => m.a![0]!.born + 5000,
  },
];

async function throughput(w: Workload): Promise<{ eventsPerSecond: number; cpuMicrosPerEvent: number; matches: number }> {
  const job = new Job({ name: `bench-cep-${w.name}` });
  const sink = new CountingSink<number>((x) => x);
  job
    .source(indexedSource(EVENTS, (i) => ({ ...w.make(i, KEYS), born: 0 })), {
      uid: 'events',
      watermarks: WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.at),
    })
    .keyBy('key')
    .pattern(w.pattern)
    .select(() => 1, { uid: w.name })
    .sinkTo(sink);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await job.run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { eventsPerSecond: EVENTS / seconds, cpuMicrosPerEvent: (cpu.user + cpu.system) / EVENTS, matches: sink.outputs };
}

/**
 * Latency at `rate` in processing time. `baseline`: the same source and keyed exchange with a
 * pass-through keyed step instead of the pattern (what the engine costs without CEP).
 */
async function latency(w: Workload, rate: number, baseline = false): Promise<{ p50: number; p99: number; max: number; matches: number }> {
  const count = Math.max(1, Math.round(rate * LATENCY_SECONDS));
  const keys = Math.max(1, Math.min(KEYS, Math.floor(count / 20)));
  const job = new Job({ name: `bench-cep-${w.name}-latency`, flushInterval: 0 });
  const latencies: number[] = [];
  const keyed = job
    .source(generator({ make: (i) => ({ ...w.make(i, keys), born: performance.now() }), count, ratePerSecond: rate }), { uid: 'events' })
    .keyBy('key');
  const ready = baseline
    ? keyed.process<number>({ processElement: (e, _ctx, out) => out.collect(e.born) }, { uid: 'pass' })
    : keyed.pattern(w.pattern).inProcessingTime().select((m) => w.readyAt(m), { uid: w.name });
  ready.sinkTo(callbackSink<number>((at) => void latencies.push(performance.now() - at)));
  await job.run();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? Number.NaN, matches: latencies.length };
}

console.log(`CEP benchmark: ${EVENTS.toLocaleString('en')} events over ${KEYS.toLocaleString('en')} keys, Node ${process.version}`);
const ready = new Map<PeerName, string | true>(PEERS.map((p) => [p, ensurePeer(p)]));
for (const w of workloads) {
  const t = await throughput(w);
  console.log(
    `${w.name.padEnd(11)} throughput: ${Math.round(t.eventsPerSecond).toLocaleString('en')} events/s, ${t.cpuMicrosPerEvent.toFixed(2)} µs CPU/event, ${t.matches.toLocaleString('en')} matches`,
  );
  const rate = Math.round(t.eventsPerSecond / 2);
  const l = await latency(w, rate);
  console.log(
    `${''.padEnd(11)} latency at ${rate.toLocaleString('en')} events/s (processing time): p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, max ${l.max.toFixed(1)} ms over ${l.matches.toLocaleString('en')} matches`,
  );
  const b = await latency(w, rate, true);
  console.log(`${''.padEnd(11)} the same source and keyed exchange without CEP (a pass-through step): p50 ${b.p50.toFixed(3)} ms, p99 ${b.p99.toFixed(3)} ms`);
  const peers: Partial<Record<PeerName, PeerResult | string>> = {};
  // The same events: the Java port's checksum of the first events must be this generator's.
  const checked = Math.min(EVENTS, 100_000);
  const ours = fingerprint(w.make, checked, KEYS);
  for (const [p, ok] of ready) {
    if (ok !== true) {
      peers[p] = ok;
      continue;
    }
    const theirs = peerFingerprint(p, w.name, checked, KEYS);
    if (theirs !== ours) console.log(`PROBLEM ${w.name}: the ${p} peer's events differ from Sluice's (checksum of the first ${checked} events: ${theirs}, Sluice ${ours})`);
    peers[p] = runPeer(p, w.name, EVENTS, KEYS);
  }
  printWorkloadTable(w.name, t, peers);
  console.log(JSON.stringify({ workload: w.name, events: EVENTS, keys: KEYS, ...t, latencyRate: rate, latencyMs: l, baselineLatencyMs: b, peers }));
}
