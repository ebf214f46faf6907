/**
 * Real `sluice` processes for the CLI tests: start one, read what it writes, wait for its
 * server, its checkpoints or its exit, and make sure none outlives its test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;
export const bin = join(root, 'bin/sluice.mjs');

/** A `sluice` process and what it has written so far. */
export interface SluiceProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Resolves when `pattern` matches its stderr (the JSON log lines); rejects after `timeoutMs` or at its exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `node bin/sluice.mjs ...args` in `cwd`, with its output captured. */
export function startSluice(args: string[], cwd: string = root): SluiceProcess {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) => until(() => pattern.exec(err) ?? (done ? fail(`sluice exited before ${pattern}:\n${err}`) : undefined), timeoutMs, () => `no ${pattern} in:\n${err}`),
  };
}

/** Polls `probe` every 50 ms until it returns a value; rejects with `why()` after `timeoutMs`. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, why: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${why()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function fail(message: string): never {
  throw new Error(message);
}

/** The URL a `sluice run` serves on, from its `server_started` log line. */
export async function serverUrl(p: SluiceProcess): Promise<string> {
  return (await p.waitFor(/"event":"server_started","url":"([^"]+)"/))[1]!;
}

/** Ends a process this test started (by its pid), if it still runs. */
export function stop(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** The counter fixture's output lines (`test/cli/fixtures/counter.ts`). */
export interface CounterLine {
  v: number;
  i: number;
  key: number;
  count: number;
}

export function counterLines(stdout: string): CounterLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CounterLine);
}

/** A program that ran to its end: its exit code (-1 when it did not exit by itself) and output. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end. Awaited, never spawnSync/execFileSync: packing, installing
 * and compiling take minutes on a busy machine, and a blocked worker fails the whole run
 * (Vitest's RPC to it times out). Killed after `timeoutMs`.
 */
export function runProgram(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = (e as { code?: unknown } | null)?.code;
      resolve({ code: e ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr: stderr + (e && typeof code !== 'number' ? String(e) : '') });
    });
  });
}

/**
 * `npm pack` of this repository into `destination` (it builds dist/ first); returns the
 * tarball's path. One at a time across the run's test workers, through a lock directory:
 * two packs at once rebuild dist/ under each other (`rmSync` of a directory the other is
 * writing: ENOTEMPTY, or a tarball packed from a half-built dist/).
 */
export async function packSluice(destination: string): Promise<string> {
  const lock = join(root, '.sluice', 'pack.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than any pack is one a killed run left behind.
      if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`packSluice: ${lock} held for 10 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const pack = await runProgram('npm', ['pack', '--pack-destination', destination], root, process.env, 300_000);
    if (pack.code !== 0) throw new Error(`npm pack --pack-destination ${destination} failed:\n${pack.stdout}\n${pack.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  const tarball = readdirSync(destination).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${destination}`);
  return join(destination, tarball);
}

/**
 * Ends every process of `list` (emptied): SIGTERM, so a job cancels and a cluster member
 * leaves its groups; SIGKILL for one still running 15 s later.
 */
export async function stopProcesses(list: SluiceProcess[]): Promise<void> {
  for (const p of list) p.child.kill('SIGTERM');
  for (const p of list.splice(0)) {
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await p.exited;
    clearTimeout(timer);
  }
}
