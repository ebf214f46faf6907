/**
 * The watchdog thread's code, as source: it starts with `eval` and an empty `execArgv`, so
 * it loads no module loader and none of Sluice (a few milliseconds, a small heap), and
 * keeps running while the main thread is blocked in a step that does not return.
 *
 * It is given each attempt's stamp words and record previews (`step-stamps.ts`), the
 * attempt's task and step names, and its limit; every tick (a fifth of the limit, between 10 ms and 1 s) it reads
 * each task's sequence word with `Atomics.load`. A task whose word has stayed at one odd
 * value for the limit is stuck in a call:
 * - in a worker thread: the watchdog tells the main thread, which logs it, fails the
 *   attempt with `STEP_STUCK` and terminates that worker (`watchdog.ts`);
 * - on the main thread, which cannot run anything meanwhile: the watchdog writes the log
 *   line itself, straight to stderr (`fs.writeSync` on fd 2: `process.stderr` from a worker
 *   goes through the blocked main thread), and, with `onStuck: 'exit'`, exits the process
 *   with {@link STUCK_EXIT_CODE}. A worker's `process.exit()` ends only its own thread, so
 *   it exits through WASI's `proc_exit` with `returnOnExit: false`, which Node documents
 *   as exiting the process with that code (from any thread). Otherwise it also tells the
 *   main thread, which fails the attempt once the call returns, if it ever does.
 *
 * The watchdog reads the wall clock (`performance.now()`), not the job's clock: it
 * measures how long a thread has been blocked, which a manual clock cannot tell.
 */

import { KIND, PREVIEW_BYTES, PREVIEW_LENGTH, SEQ, SIZE, STEP, WORDS_PER_TASK } from './step-stamps.js';

/**
 * The exit code of a process the watchdog ended (`onStuck: 'exit'`): EX_TEMPFAIL, "try
 * again later", since a restart from the last checkpoint is what should follow.
 */
export const STUCK_EXIT_CODE = 75;

/** What the main thread tells the watchdog thread. */
export type ToWatchdog =
  | {
      readonly type: 'watch';
      readonly id: number;
      readonly words: SharedArrayBuffer;
      readonly limitMs: number;
      /** `onStuck: 'exit'`: a step stuck on the main thread ends the process. */
      readonly exit: boolean;
      /** Whether the job's log level lets an error line reach stderr. */
      readonly stderr: boolean;
      readonly job: string;
      /** By physical node id: the task, the thread it runs in (0: the main thread) and its chain's steps. */
      readonly tasks: ReadonlyArray<{ readonly name: string; readonly thread: number; readonly steps: ReadonlyArray<{ readonly uid: string; readonly kind: string }> }>;
    }
  | { readonly type: 'unwatch'; readonly id: number };

/** What the watchdog thread tells the main thread: task `task` of attempt `id` is stuck. */
export interface StuckReport {
  readonly type: 'stuck';
  readonly id: number;
  readonly task: number;
  readonly forMs: number;
  /** When the watchdog found it (epoch ms): the main thread may read the report much later. */
  readonly foundAt: number;
  readonly step: number;
  readonly kind: number;
  readonly size: number;
  /** A bounded preview of the (first) record the call was handling, when it handled records. */
  readonly record?: string | undefined;
}

/**
 * A WebAssembly module whose `_start` calls WASI `proc_exit(75)`: how the watchdog thread
 * exits the whole process while the main thread is blocked.
 */
const EXIT_MODULE = [
  0, 97, 115, 109, 1, 0, 0, 0, // magic, version
  1, 8, 2, 96, 1, 127, 0, 96, 0, 0, // types: (i32) -> (), () -> ()
  2, 36, 1, 22, ...[...'wasi_snapshot_preview1'].map((c) => c.charCodeAt(0)), 9, ...[...'proc_exit'].map((c) => c.charCodeAt(0)), 0, 0, // import proc_exit
  3, 2, 1, 1, // one function of type 1
  5, 3, 1, 0, 1, // one page of memory (WASI wants one exported)
  7, 19, 2, 6, ...[...'memory'].map((c) => c.charCodeAt(0)), 2, 0, 6, ...[...'_start'].map((c) => c.charCodeAt(0)), 0, 1, // exports
  10, 9, 1, 7, 0, 65, STUCK_EXIT_CODE | 0x80, 0, 16, 0, 11, // _start: i32.const 75; call proc_exit; end
];

/** The thread's program (CommonJS, run with `eval`): kept to what it must do. */
export const WATCHDOG_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const EXIT_CODE = ${STUCK_EXIT_CODE};
const EXIT_MODULE = new Uint8Array(${JSON.stringify(EXIT_MODULE)});
const WORDS = ${WORDS_PER_TASK}, SEQ = ${SEQ}, STEP = ${STEP}, KIND = ${KIND}, SIZE = ${SIZE}, PREVIEW_LENGTH = ${PREVIEW_LENGTH}, PREVIEW_BYTES = ${PREVIEW_BYTES};
const CALLS = ['a batch of records', 'a watermark', 'a change of idleness', 'the end of its input', 'a processing-time timer', 'open()', "the source reader's poll()"];
const attempts = new Map();

parentPort.on('message', (m) => {
  if (m.type === 'watch') watch(m);
  else if (m.type === 'unwatch') {
    const a = attempts.get(m.id);
    if (a) clearInterval(a.timer);
    attempts.delete(m.id);
  }
});

function watch(m) {
  const n = m.tasks.length;
  const a = { ...m, words: new Int32Array(m.words), previews: new Uint8Array(m.words, n * WORDS * 4), seen: new Int32Array(n), since: new Float64Array(n), reported: new Uint8Array(n) };
  a.timer = setInterval(() => check(a), Math.min(1000, Math.max(10, m.limitMs / 5)));
  attempts.set(m.id, a);
}

function check(a) {
  const now = performance.now();
  for (let t = 0; t < a.tasks.length; t++) {
    const seq = Atomics.load(a.words, t * WORDS + SEQ);
    if ((seq & 1) === 0 || seq !== a.seen[t]) {
      a.seen[t] = seq;
      a.since[t] = now;
      a.reported[t] = 0;
    } else if (a.reported[t] === 0 && now - a.since[t] >= a.limitMs) {
      a.reported[t] = 1;
      stuck(a, t, Math.round(now - a.since[t]));
    }
  }
}

function stuck(a, t, forMs) {
  const base = t * WORDS;
  const step = Atomics.load(a.words, base + STEP), kind = Atomics.load(a.words, base + KIND), size = Atomics.load(a.words, base + SIZE);
  // The preview of the record the task wrote before the call (the thread is blocked: it stays).
  const length = Math.min(PREVIEW_BYTES, Atomics.load(a.words, base + PREVIEW_LENGTH));
  const record = kind === 0 && length > 0 ? new TextDecoder().decode(a.previews.slice(t * PREVIEW_BYTES, t * PREVIEW_BYTES + length)) : undefined;
  const report = { type: 'stuck', id: a.id, task: t, forMs, foundAt: Date.now(), step, kind, size, record };
  const task = a.tasks[t];
  if (task.thread !== 0) return parentPort.postMessage(report);
  // The main thread is blocked: only this thread can say so.
  const s = task.steps[step] || task.steps[0];
  const call = kind === 0 ? 'a batch of ' + size + ' record' + (size === 1 ? '' : 's') : CALLS[kind] || 'a call';
  const shown = record === undefined ? '' : size === 1 ? ': ' + record : ' (the first: ' + record + '; after a restart this task takes its records one at a time, to name the very one)';
  const then = a.exit
    ? 'the process exits with code ' + EXIT_CODE + " (onStuck: 'exit') so that it is restarted from its last checkpoint"
    : 'JavaScript cannot interrupt it there; the attempt fails if it returns, and /healthz goes unanswered meanwhile';
  const msg = "step '" + s.uid + "' (" + s.kind + ") of task '" + task.name + "' has not returned for " + forMs + ' ms, handling ' + call + shown +
    ', on the main thread: ' + then + '. With parallelism 2 or more steps run in worker threads, where the watchdog stops them.';
  if (a.stderr || a.exit) {
    const line = { level: 50, time: Date.now(), job: a.job, event: 'step_stuck', code: 'STEP_STUCK', step: s.uid, task: task.name, thread: 'main thread', forMs, call, record, msg };
    try { writeSync(2, JSON.stringify(line) + '\\n'); } catch {}
  }
  if (!a.exit) return parentPort.postMessage(report);
  try {
    const { WASI } = require('node:wasi');
    const wasi = new WASI({ version: 'preview1', returnOnExit: false });
    wasi.start(new WebAssembly.Instance(new WebAssembly.Module(EXIT_MODULE), wasi.getImportObject()));
  } catch {}
  process.kill(process.pid, 'SIGKILL'); // no WASI here: at least end the process
}
`;
