#!/usr/bin/env node
/**
 * Keeps CPU cores busy, to run the test suite (or a benchmark) on a loaded machine:
 *   node scripts/cpu-load.mjs [threads] [seconds]
 * spins `threads` worker threads (default: every core, os.availableParallelism()) in a
 * busy loop for `seconds` (default 600), then exits. Ctrl-C or SIGTERM stops it early.
 *   node scripts/cpu-load.mjs 2 & npm test; kill %1
 */
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

if (isMainThread) {
  const threads = Number(process.argv[2] ?? availableParallelism());
  const seconds = Number(process.argv[3] ?? 600);
  if (!Number.isInteger(threads) || threads < 1 || !(seconds > 0)) {
    console.error('usage: node scripts/cpu-load.mjs [threads >= 1] [seconds > 0]');
    process.exit(2);
  }
  const until = Date.now() + seconds * 1000;
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { until } }));
  console.error(`cpu-load: ${threads} busy thread(s) for ${seconds} s (pid ${process.pid})`);
  const stop = () => {
    for (const w of workers) void w.terminate();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  // The busy loop: checks the clock every few million iterations, so it ends on time.
  const { until } = workerData;
  let x = 0;
  while (Date.now() < until) {
    for (let i = 0; i < 5_000_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  }
  if (x === -1) console.log(x); // keeps the loop from being optimised away
}
