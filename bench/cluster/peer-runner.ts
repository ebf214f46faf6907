/**
 * The Kafka Streams peer (bench/peers/kafka-streams): built once with Maven (offline when
 * ~/.m2 already holds everything, online otherwise), run as JVM processes
 * `java -cp target/classes:target/lib/* sluice.ksbench.WindowCount …`, one per instance.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { logFileOf, startProcess, type EngineProcess } from './processes.js';
import type { Contender, RunNames } from './throughput.js';

const peerDir = fileURLToPath(new URL('../peers/kafka-streams/', import.meta.url));
const MAIN = 'sluice.ksbench.WindowCount';

/** Compiles the peer and copies its jars to target/lib, unless that was done since its pom or source last changed. */
export function ensurePeerBuilt(): void {
  const built = `${peerDir}target/classes/sluice/ksbench/WindowCount.class`;
  const sources = [`${peerDir}pom.xml`, `${peerDir}src/main/java/sluice/ksbench/WindowCount.java`];
  if (existsSync(built) && existsSync(`${peerDir}target/lib`) && sources.every((f) => statSync(f).mtimeMs <= statSync(built).mtimeMs)) return;
  console.log('building the Kafka Streams peer (mvn -q -o package; online if ~/.m2 lacks something)…');
  const offline = spawnSync('mvn', ['-B', '-q', '-o', 'package'], { cwd: peerDir, stdio: 'inherit' });
  if (offline.status === 0) return;
  const online = spawnSync('mvn', ['-B', '-q', 'package'], { cwd: peerDir, stdio: 'inherit' });
  if (online.status !== 0) throw new Error(`building ${peerDir} with Maven failed`);
}

export interface PeerOptions {
  readonly appId: string;
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  readonly threads: number;
  readonly graceMs: number;
  readonly commitMs: number;
  readonly store: 'memory' | 'rocksdb';
  /** Instance number within the run: each has its own state directory. */
  readonly instance: number;
}

function stateDir(o: PeerOptions): string {
  return `${tmpdir()}/ksbench-${o.appId}-${o.instance}`;
}

export function peerCommand(o: PeerOptions): string[] {
  return [
    'java', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', 'target/classes:target/lib/*', MAIN,
    '--brokers', o.brokers, '--input', o.input, '--output', o.output, '--app-id', o.appId,
    '--threads', String(o.threads), '--grace-ms', String(o.graceMs), '--commit-ms', String(o.commitMs),
    '--store', o.store, '--state-dir', stateDir(o),
  ];
}

export function startPeer(o: PeerOptions): EngineProcess {
  const [command, ...args] = peerCommand(o);
  return startProcess(`ks${o.instance}`, command!, args, { cwd: peerDir, logFile: logFileOf(o.appId, `ks${o.instance}`) });
}

/** Removes an instance's local state directory (its state is in its changelog topics anyway). */
export function removePeerState(o: PeerOptions): void {
  rmSync(stateDir(o), { recursive: true, force: true });
}

/** Kafka Streams as a contender of the throughput runs: `instances` JVMs of `threads` stream threads, application id named after the run. */
export function peerContender(instances: number, threads: number, o: { brokers: string; graceMs: number; commitMs: number; store: 'memory' | 'rocksdb' }): Contender {
  const options = (run: RunNames, instance: number): PeerOptions => ({ appId: run.id, brokers: o.brokers, input: run.input, output: run.output, threads, graceMs: o.graceMs, commitMs: o.commitMs, store: o.store, instance });
  return {
    engine: 'Kafka Streams',
    instances,
    threads,
    start: (run) => Array.from({ length: instances }, (_, i) => startPeer(options(run, i))),
    group: (run) => run.id,
    command: (run) => `(cd bench/peers/kafka-streams && ${peerCommand(options(run, 0)).join(' ')})`,
    cleanup: (run) => {
      for (let i = 0; i < instances; i++) removePeerState(options(run, i));
    },
  };
}
