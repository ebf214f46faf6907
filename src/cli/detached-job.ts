import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A `sluice run` started in the background by another command (`sluice upgrade`): its
 * own process group, output to two files, so that it outlives the command that started
 * it. While that command waits, it can read the job's log for its address, ask whether
 * it is ready and has checkpointed, and stop it.
 */
export interface DetachedJob {
  readonly pid: number;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** The exit code (or signal) once it has exited; undefined while it runs. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The dashboard and REST API, once its `server_started` log line is written. */
  url(): string | undefined;
  /** The last lines of its stderr, for a message. */
  tail(lines?: number): string;
  /** Stops it: SIGTERM to its process group, SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Stops watching it: this process may exit while the job runs on. */
  release(): void;
}

/** How a command runs `sluice` again: this Node, its flags and the script it was started as. */
export function sluiceInvocation(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}

/**
 * Starts `sluice run <args>` detached, its stdout and stderr appended to
 * `<logDir>/<name>.stdout` and `.stderr`.
 */
export function startDetached(args: string[], logDir: string, name: string): DetachedJob {
  mkdirSync(logDir, { recursive: true });
  const stdoutFile = resolve(join(logDir, `${name}.stdout`));
  const stderrFile = resolve(join(logDir, `${name}.stderr`));
  const out = openSync(stdoutFile, 'a');
  const err = openSync(stderrFile, 'a');
  const [node, ...pre] = sluiceInvocation();
  let child: ChildProcess;
  try {
    child = spawn(node!, [...pre, 'run', ...args], { detached: true, stdio: ['ignore', out, err] });
  } finally {
    // The child has its own copies of the descriptors.
    closeSync(out);
    closeSync(err);
  }
  let exit: DetachedJob['exit'];
  const exited = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      done();
    });
    // It could not be started at all (no such program): as if it had exited at once.
    child.once('error', () => {
      exit ??= { code: null, signal: null };
      done();
    });
  });
  const readErr = () => {
    try {
      return readFileSync(stderrFile, 'utf8');
    } catch {
      return '';
    }
  };
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal); // the job's whole process group (it leads it: detached)
    } catch {
      // already gone
    }
  };
  return {
    pid: child.pid!,
    stdoutFile,
    stderrFile,
    get exit() {
      return exit;
    },
    url: () => /"event":"server_started","url":"([^"]+)"/.exec(readErr())?.[1],
    tail: (lines = 8) => readErr().trimEnd().split('\n').slice(-lines).join('\n'),
    async stop(graceMs = 5000) {
      if (exit) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    release: () => {
      child.removeAllListeners('exit');
      child.unref();
    },
  };
}

/** What `waitUntilConfirmed` found: the job's id and address, and its first completed checkpoint. */
export interface Confirmation {
  readonly url: string;
  readonly id: string;
  readonly checkpointId?: number;
}

/**
 * Waits until a detached job serves its REST API, is ready (`/readyz` answers 200) and,
 * with `checkpoint`, has completed a checkpoint of its own. Throws a message that says
 * what did not happen when it exits, fails, or `deadline` (epoch ms) passes first.
 */
export async function waitUntilConfirmed(job: DetachedJob, deadline: number, checkpoint: boolean): Promise<Confirmation> {
  let stage = 'to serve its REST API (no server_started line in its log)';
  for (;;) {
    if (job.exit) {
      const how = job.exit.signal ? `was killed by ${job.exit.signal}` : `exited with code ${job.exit.code}`;
      throw new Error(`it ${how} before it was confirmed:\n${job.tail()}`);
    }
    const url = job.url();
    if (url !== undefined) {
      const ready = await getJson<{ ready: boolean; status: string }>(`${url}/readyz`);
      if (ready?.status === 'failed') throw new Error(`it failed:\n${job.tail()}`);
      stage = `to become ready (/readyz says ${ready ? ready.status : 'nothing'})`;
      if (ready?.ready) {
        const id = (await getJson<Array<{ id: string }>>(`${url}/jobs`))?.[0]?.id;
        if (id !== undefined && !checkpoint) return { url, id };
        if (id !== undefined) {
          const cps = await getJson<{ history: Array<{ checkpointId: number; kind: string; status: string }> }>(`${url}/jobs/${encodeURIComponent(id)}/checkpoints`);
          const done = cps?.history.find((c) => c.kind === 'checkpoint' && c.status === 'completed');
          if (done) return { url, id, checkpointId: done.checkpointId };
          stage = 'to complete its first checkpoint';
        }
      }
    }
    if (Date.now() >= deadline) throw new Error(`it did not manage ${stage} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GETs JSON, or undefined when the server does not answer (yet) or answers with something else. */
async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as T;
  } catch {
    return undefined;
  }
}
