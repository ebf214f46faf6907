/**
 * The engine processes a cluster benchmark run starts (Sluice members, Kafka Streams
 * instances): their stderr kept for the report, their exit awaited, and a stop that ends
 * each by its own pid (SIGTERM, then SIGKILL if it lingers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface EngineProcess {
  /** Member or instance name, for the report. */
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  /** The last 64 KiB it wrote to stderr. */
  stderr(): string;
  /** The file that holds all of its stderr, if one was asked for. */
  readonly logFile: string | undefined;
}

const KEEP = 64 * 1024;

/** Starts `command args` with stdout ignored and stderr kept (all of it in `logFile`, if given; `onLine` sees each line). */
export function startProcess(name: string, command: string, args: string[], options: { cwd?: string; onLine?: (line: string) => void; logFile?: string } = {}): EngineProcess {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let err = '';
  let partial = '';
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    child.stderr!.pipe(createWriteStream(options.logFile));
  }
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    err = (err + text).slice(-KEEP);
    if (!options.onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const l of lines) options.onLine(l);
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { name, child, pid: child.pid, exited, stderr: () => err, logFile: options.logFile };
}

/** Whether it is still running. */
export function running(p: EngineProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Stops it with `signal`, waits for its exit, SIGKILL after `graceMs`. */
export async function stopProcess(p: EngineProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
  if (!running(p)) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** Where the benchmark keeps the engines' logs of a run (gitignored). */
export function logFileOf(run: string, name: string): string {
  return new URL(`../../.sluice/bench-cluster/${run}/${name}.log`, import.meta.url).pathname;
}

/** The last `n` lines of its stderr, indented, for a report, and where the rest is. */
export function stderrTail(p: EngineProcess, n = 15): string {
  const where = p.logFile ? `    (all of it: ${p.logFile})\n` : '';
  return where + p
    .stderr()
    .trimEnd()
    .split('\n')
    .slice(-n)
    .map((l) => `    ${l.slice(0, 400)}`)
    .join('\n');
}
