/**
 * The throughput table: one row per run, and on each Sluice row its ratio to the Kafka
 * Streams run of the same size in the same benchmark run (as many instances of one
 * thread, else as many threads in all).
 */
import type { RunResult } from './throughput.js';

function rate(x: number | undefined): string {
  if (x === undefined) return '–';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}K`;
  return x.toFixed(0);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '–' : (a / b).toFixed(2);
}

/** The Kafka Streams run a Sluice run of `instances` members is compared with. */
export function peerOf(r: RunResult, all: readonly RunResult[]): RunResult | undefined {
  const ks = all.filter((x) => x.engine === 'Kafka Streams');
  return ks.find((x) => x.instances === r.instances && x.threads === 1) ?? ks.find((x) => x.instances * x.threads === r.instances);
}

export function printThroughputTable(results: readonly RunResult[]): void {
  const header = [
    'engine', 'processes × threads', 'records/s', 'CPU s', 'records/CPU-s', 'Sluice/KS records/s', 'Sluice/KS per CPU-s',
    'input committed: records/s', 'records/CPU-s', 'missing/doubled/wrong',
  ];
  const rows = results.map((r) => {
    const peer = r.engine === 'Sluice' ? peerOf(r, results) : undefined;
    const { missing, doubled, wrong } = r.reconciled;
    const inputRate = r.bodyCommittedAfter === undefined ? undefined : r.records / r.bodyCommittedAfter;
    const inputPerCpu = r.bodyCommittedCpuSeconds === undefined ? undefined : r.records / r.bodyCommittedCpuSeconds;
    return [
      r.engine,
      `${r.instances} × ${r.threads}`,
      rate(r.recordsPerSec),
      r.cpuSeconds === undefined ? '–' : r.cpuSeconds.toFixed(1),
      rate(r.recordsPerCpuSecond),
      peer ? ratio(r.recordsPerSec, peer.recordsPerSec) : '',
      peer ? ratio(r.recordsPerCpuSecond, peer.recordsPerCpuSecond) : '',
      rate(inputRate),
      rate(inputPerCpu),
      `${missing}/${doubled}/${wrong}${missing + doubled + wrong > 0 ? ' WRONG' : ''}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('records/s: from starting the processes until the output holds every expected window (read_committed), – when it never did; CPU: user+system of the processes, start-up included');
  console.log('Sluice/KS: against Kafka Streams with as many instances of one thread, in this run; input committed: until the engine had committed reading every record (before the closing records, so windows still open)');
  console.log('');
}
