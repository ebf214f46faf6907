/**
 * The Java peers of `npm run bench:cep` (bench/cep.ts): building them, running one workload in
 * its own JVM, and the table that puts them beside Sluice.
 *
 * - flink: bench/peers/flink-cep, `sluice.cep.FlinkCepBench` (Flink CEP, local mini-cluster).
 * - esper: bench/peers/esper, `sluice.esper.EsperCep` (Esper's compiled EPL).
 *
 * Each peer prints one JSON line per run (bench/peers/cep-events' `CepEvents.report`); run 1
 * includes the JIT's warm-up, run 2 is warm.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PeerName = 'flink' | 'esper';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PEERS: Record<PeerName, { label: string; dir: string; main: string; classFile: string }> = {
  flink: { label: 'Flink CEP 2.2.0', dir: 'bench/peers/flink-cep', main: 'sluice.cep.FlinkCepBench', classFile: 'sluice/cep/FlinkCepBench.class' },
  esper: { label: 'Esper 8.9.0', dir: 'bench/peers/esper', main: 'sluice.esper.EsperCep', classFile: 'sluice/esper/EsperCep.class' },
};

/** One run of a peer, as its JSON line says. */
export interface PeerRun {
  run: number;
  events: number;
  seconds: number;
  cpuSeconds: number;
  matches: number;
  /** The JVM's CPU from its start to the end of this run. */
  processCpuSeconds: number;
}

/** A peer's runs of one workload: `first` includes the JIT's warm-up, `warm` is the last. */
export interface PeerResult {
  first: PeerRun;
  warm: PeerRun;
}

/** Sluice's throughput on the workload (bench/cep.ts). */
export interface SluiceThroughput {
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  matches: number;
}

/** The peers `--peers` names: none, flink, esper or all (a comma list works too). */
export function peerChoice(text: string): PeerName[] {
  if (text === 'none') return [];
  if (text === 'all') return ['flink', 'esper'];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (!Object.hasOwn(PEERS, n)) throw new Error(`--peers: '${n}' is not one of none, flink, esper, all`);
  return names as PeerName[];
}

/** Builds the peer when its sources changed (cached in its target/); true when it can run, else why not. */
export function ensurePeer(name: PeerName): string | true {
  const peer = PEERS[name];
  const dir = join(root, peer.dir);
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error) return `skipped: java not found (${java.error.message})`;
  const built = join(dir, 'target/classes', peer.classFile);
  if (existsSync(built) && existsSync(join(dir, 'target/lib')) && newestSource(dir) <= statSync(built).mtimeMs) return true;
  console.log(`building the ${peer.label} peer (mvn -q package; the first time downloads it into ~/.m2)…`);
  try {
    execFileSync('mvn', ['-B', '-q', 'package'], { cwd: dir, stdio: 'inherit' });
    return true;
  } catch (e) {
    return `skipped: the Maven build failed (${(e as Error).message.split('\n')[0]})`;
  }
}

/** The newest modification time of the peer's pom and Java sources, the shared events' included. */
function newestSource(dir: string): number {
  const newest = (path: string): number =>
    statSync(path).isDirectory() ? Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f)))) : statSync(path).mtimeMs;
  return Math.max(newest(join(dir, 'pom.xml')), newest(join(dir, 'src')), newest(join(root, 'bench/peers/cep-events/src')));
}

/** Runs one workload on the peer in a new JVM; the result or why it failed. */
export function runPeer(name: PeerName, workload: string, events: number, keys: number): PeerResult | string {
  const peer = PEERS[name];
  const r = spawnSync('java', ['-cp', 'target/classes:target/lib/*', peer.main, workload, String(events), String(keys), '2'], {
    cwd: join(root, peer.dir),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) return `failed (${r.status}): ${(r.stderr.split('\n').find((l) => /Exception|Error/.test(l)) ?? r.stderr).slice(0, 300)}`;
  const runs = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as PeerRun);
  if (runs.length === 0) return `printed no JSON line: ${r.stdout.slice(-300)}`;
  return { first: runs[0]!, warm: runs[runs.length - 1]! };
}

/** The peer's fingerprint of the workload's first n events (its port of the generator), or why it failed. */
export function peerFingerprint(name: PeerName, workload: string, n: number, keys: number): number | string {
  const r = spawnSync('java', ['-cp', 'target/classes', 'sluice.cepevents.CepEvents', workload, String(n), String(keys)], {
    cwd: join(root, PEERS[name].dir),
    encoding: 'utf8',
  });
  return r.status === 0 ? Number(r.stdout.trim()) : `failed (${r.status}): ${r.stderr.slice(0, 300)}`;
}

const num = (x: number, digits = 0) => x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * One table for the workload: per engine, events/s, CPU µs per event, matches and Sluice's
 * events per CPU-second divided by the engine's; then a PROBLEM line per peer whose matches
 * differ from Sluice's.
 */
export function printWorkloadTable(workload: string, sluice: SluiceThroughput, peers: Partial<Record<PeerName, PeerResult | string>>): void {
  const header = ['engine', 'run', 'events/s', 'CPU µs/event', 'CPU µs/event from JVM start', 'matches', 'Sluice ÷ engine (events/CPU-s)'];
  const rows: string[][] = [['Sluice', 'single', num(sluice.eventsPerSecond), num(sluice.cpuMicrosPerEvent, 2), '-', num(sluice.matches), '1.00']];
  const problems: string[] = [];
  for (const [name, result] of Object.entries(peers) as [PeerName, PeerResult | string][]) {
    const label = PEERS[name].label;
    if (typeof result === 'string') {
      rows.push([label, '-', '-', '-', '-', '-', result]);
      continue;
    }
    for (const [tag, r] of [['first', result.first], ['warm', result.warm]] as const) {
      const micros = (r.cpuSeconds * 1e6) / r.events;
      rows.push([
        label,
        tag,
        num(r.events / r.seconds),
        num(micros, 2),
        tag === 'first' ? num((r.processCpuSeconds * 1e6) / r.events, 2) : '-',
        num(r.matches),
        (micros / sluice.cpuMicrosPerEvent).toFixed(2),
      ]);
      if (r.matches !== sluice.matches) problems.push(`PROBLEM ${workload}: ${label} (${tag} run) found ${num(r.matches)} matches, Sluice ${num(sluice.matches)}`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${workload}:`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const p of problems) console.log(p);
  console.log('');
}

