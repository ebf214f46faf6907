/**
 * `npm run bench:nexmark`: Nexmark, Sluice beside Apache Flink, in one run on one machine.
 * Per query, `sluice nexmark run` and the Flink peer (bench/peers/flink: the same
 * generator ported to Java, the queries in Flink SQL, a local mini-cluster with
 * parallelism 1) each run in their own process over the same generated events; the
 * table shows events per CPU-second of each and their ratio, and the output row counts
 * side by side (equal for append-only queries; for q4 Flink counts every change of its
 * changelog, retractions included, Sluice every new average).
 *
 * Options: --events N (default 10,000,000), --query qN (repeatable), --rate R (events per
 * second of event time, default 10,000,000), --seed S, --no-flink.
 * The Flink jar is built once (`mvn -q package`, cached in bench/peers/flink/target/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NexmarkGenerator } from '../src/nexmark/generator.js';
import type { NexmarkEvent } from '../src/nexmark/events.js';
import { QUERY_NAMES } from '../src/nexmark/queries/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flinkDir = join(root, 'bench/peers/flink');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    query: { type: 'string', multiple: true },
    rate: { type: 'string', default: '10000000' },
    seed: { type: 'string', default: '42' },
    'no-flink': { type: 'boolean' },
  },
});
const events = values.events.replace(/_/g, '');
const queries = values.query ?? QUERY_NAMES;
const common = ['--query', '', '--events', events, '--rate', values.rate, '--seed', values.seed];

interface Report {
  query: string;
  outputRows: number;
  seconds: number;
  cpuSeconds: number;
  eventsPerCpuSecond: number;
}

function lastJsonLine(text: string, what: string): Report {
  const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${what} printed no JSON line:\n${text.slice(-2000)}`);
  return JSON.parse(line) as Report;
}

function runSluice(q: string): Report {
  // --event-rate: the same event time as Flink's, without pacing (--rate would pace and measure latency).
  const args = common.map((a, i) => (i === 1 ? q : a === '--rate' ? '--event-rate' : a));
  const r = spawnSync(process.execPath, [join(root, 'bin/sluice.mjs'), 'nexmark', 'run', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sluice ${q} failed (${r.status}): ${r.stderr}`);
  return lastJsonLine(r.stdout, `sluice ${q}`);
}

function ensureFlink(): boolean {
  if (values['no-flink']) return false;
  if (!existsSync(join(flinkDir, 'target/classes/sluice/nexmark/FlinkNexmark.class')) || !existsSync(join(flinkDir, 'target/lib'))) {
    console.log('building the Flink peer (mvn -q package; the first time downloads Flink into ~/.m2)…');
    execFileSync('mvn', ['-B', '-q', 'package'], { cwd: flinkDir, stdio: 'inherit' });
  }
  return true;
}

function runFlink(q: string): Report | string {
  const args = common.map((a, i) => (i === 1 ? q : a));
  const r = spawnSync('java', ['-cp', 'target/classes:target/lib/*', 'sluice.nexmark.FlinkNexmark', ...args], {
    cwd: flinkDir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) return `failed (${r.status}): ${(r.stderr.split('\n').find((l) => /Exception|Error/.test(l)) ?? r.stderr).slice(0, 300)}`;
  return lastJsonLine(r.stdout, `flink ${q}`);
}

/** Events the generator makes per CPU-second on this core (the work every query starts with). */
function generatorRate(): number {
  const gen = new NexmarkGenerator({ seed: Number(values.seed), rate: Number(values.rate) });
  const vals = new Array<NexmarkEvent>(1024);
  const ts = new Array<number>(1024);
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    for (let n = 0; n < 2_000_000; n += 1024) gen.fill(n, 1024, vals, ts);
    const c = process.cpuUsage(c0);
    best = Math.max(best, 2_000_000 / ((c.user + c.system) / 1e6));
  }
  return best;
}

const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}K` : x.toFixed(0));

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; ${Number(events).toLocaleString('en-US')} events per query, rate ${values.rate}/s of event time, seed ${values.seed}`);
console.log(`generator alone: ${fmt(generatorRate())} events per CPU-second (batches of 1024, best of 3 × 2M events)`);
const withFlink = ensureFlink();
const rows: string[][] = [];
const json: object[] = [];
for (const q of queries) {
  const s = runSluice(q);
  const f = withFlink ? runFlink(q) : 'skipped';
  const fr = typeof f === 'string' ? undefined : f;
  console.log(`${q}: sluice ${JSON.stringify(s)}`);
  console.log(`${q}: flink  ${typeof f === 'string' ? f : JSON.stringify(f)}`);
  rows.push([
    q,
    fmt(s.eventsPerCpuSecond),
    fr ? fmt(fr.eventsPerCpuSecond) : '-',
    fr ? (s.eventsPerCpuSecond / fr.eventsPerCpuSecond).toFixed(2) : '-',
    `${s.cpuSeconds.toFixed(1)} / ${fr ? fr.cpuSeconds.toFixed(1) : '-'}`,
    String(s.outputRows),
    fr ? String(fr.outputRows) : '-',
  ]);
  json.push({ query: q, events: Number(events), sluice: s, flink: f });
}
const header = ['query', 'Sluice ev/CPU-s', 'Flink ev/CPU-s', 'Sluice/Flink', 'CPU s (S / F)', 'Sluice rows', 'Flink rows'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log('');
for (const j of json) console.log(JSON.stringify(j));
