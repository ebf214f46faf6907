import { Worker } from 'node:worker_threads';
import { SluiceError } from '../../errors/index.js';
import { stuckRecord, type StuckStep } from '../../observe/job-monitor.js';
import type { PhysicalGraph, SubtaskNode } from '../../plan/physical-graph.js';
import type { Operator } from '../operator.js';
import { describeCall, stampBuffer, stampWords } from './step-stamps.js';
import { WATCHDOG_SOURCE, type StuckReport, type ToWatchdog } from './watchdog-thread.js';

/**
 * The watchdog's settings (`JobOptions.stuckAfter` and `onStuck`): a step that has not
 * returned from one call for `stuckAfterMs` is stuck.
 */
export interface WatchdogConfig {
  readonly stuckAfterMs: number;
  /**
   * `'fail'`: the attempt fails with `STEP_STUCK` (at once in a worker thread, which is
   * terminated; on the main thread when the call returns). `'exit'`: a step stuck on the
   * main thread ends the process with `STUCK_EXIT_CODE`.
   */
  readonly onStuck: 'fail' | 'exit';
  /** Whether the job's log level lets error lines reach stderr (the watchdog thread writes there itself for the main thread). */
  readonly stderr: boolean;
}

/** An attempt's stamp words, watched by the watchdog thread until `stop()`. */
export interface StepWatch {
  /** The words tasks stamp (`step-stamps.ts`), by physical node id. */
  readonly words: Int32Array;
  /** Their buffer, handed to the worker threads of a parallel run. */
  readonly buffer: SharedArrayBuffer;
  /** Starts watching (once the attempt is deployed: an attempt that fails to deploy leaves nothing behind). */
  start(): void;
  stop(): void;
}

/**
 * Watches the steps of one attempt, when the job has a watchdog: the attempt's tasks stamp
 * `words` (in every thread), and from `start()` on `onStuck` is told of each task found stuck, with the
 * thread it runs in (`threadOf`: 0 for the main thread, the slot for a worker thread).
 * For a task of the main thread the call comes only once the main thread is free again.
 */
export function watchSteps(
  physical: PhysicalGraph<Operator>,
  // What it needs of the job's RuntimeConfig (declared here: config.ts imports WatchdogConfig).
  config: { readonly watchdog?: WatchdogConfig | undefined; readonly jobName: string },
  threadOf: (node: SubtaskNode<Operator>) => number,
  onStuck: (stuck: StuckStep, thread: number) => void,
): StepWatch | undefined {
  const watchdog = config.watchdog;
  if (!watchdog) return undefined;
  const buffer = stampBuffer(physical.nodes.length);
  const id = nextId++;
  const report = (r: StuckReport) => {
    const node = physical.nodes[r.task]!;
    const steps = node.chain.nodes;
    const step = steps[r.step] ?? steps[0]!;
    const slot = threadOf(node);
    const stuck: StuckStep = {
      step: step.uid,
      kind: step.source ? 'source' : step.kind,
      task: node.name,
      thread: slot === 0 ? 'main thread' : `worker thread ${slot}`,
      forMs: r.forMs,
      call: describeCall(r.kind, r.size),
      since: r.foundAt - r.forMs,
      ...(r.record === undefined ? {} : { record: r.record }),
    };
    onStuck(stuck, slot);
  };
  let state: 'new' | 'watched' | 'stopped' = 'new';
  return {
    words: stampWords(buffer, physical.nodes.length),
    buffer,
    start() {
      if (state !== 'new') return;
      state = 'watched';
      watching.set(id, report);
      watchdogThread().postMessage({
        type: 'watch',
        id,
        words: buffer,
        limitMs: watchdog.stuckAfterMs,
        exit: watchdog.onStuck === 'exit',
        stderr: watchdog.stderr,
        job: config.jobName,
        tasks: physical.nodes.map((node) => ({
          name: node.name,
          thread: threadOf(node),
          steps: node.chain.nodes.map((step) => ({ uid: step.uid, kind: step.source ? 'source' : step.kind })),
        })),
      } satisfies ToWatchdog);
    },
    stop() {
      if (state === 'watched') {
        watching.delete(id);
        thread?.postMessage({ type: 'unwatch', id } satisfies ToWatchdog);
      }
      state = 'stopped';
    },
  };
}

/** The attempt's failure for a stuck step. */
export function stuckError(stuck: StuckStep): SluiceError {
  return new SluiceError(
    'STEP_STUCK',
    `step '${stuck.step}' (${stuck.kind}) of task '${stuck.task}' has not returned for ${stuck.forMs} ms, handling ${stuck.call}${stuckRecord(stuck)}, ${whereIs(stuck)}`,
    { step: stuck.step },
  );
}


/** 'on the main thread' or 'in worker thread 2'. */
export function whereIs(stuck: StuckStep): string {
  return stuck.thread === 'main thread' ? 'on the main thread' : `in ${stuck.thread}`;
}

let nextId = 1;
/** What to call for a report, by attempt id (an attempt that has ended is no longer here). */
const watching = new Map<number, (report: StuckReport) => void>();
let thread: Worker | undefined;

/**
 * The process's one watchdog thread, started by the first attempt that needs it. It does
 * not keep the process alive; should it ever end, the next attempt starts another.
 */
function watchdogThread(): Worker {
  if (thread) return thread;
  const w = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    execArgv: [], // no loader (tsx, the source loader): the thread runs only the code above
    name: 'sluice watchdog',
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  w.on('message', (r: StuckReport) => watching.get(r.id)?.(r));
  w.on('error', () => {});
  w.on('exit', () => {
    if (thread === w) thread = undefined;
  });
  w.unref(); // after the listeners: adding a 'message' listener refs the worker's port again

  thread = w;
  return w;
}
