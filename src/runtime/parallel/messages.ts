import { ERROR_CATALOG, type ErrorCode } from '../../errors/catalog.js';
import { SluiceError } from '../../errors/index.js';
import { cloneableLetter, type DeadLetter } from '../dead-letter-queue.js';
import type { CheckpointData } from '../../checkpoint/types.js';
import type { TaskStepState } from '../task.js';
import type { RemoteMetrics } from '../../observe/job-metrics.js';

/**
 * How long a task of a parallel run keeps its thread's event loop: batches and credit
 * from other threads wait meanwhile, and a thread waiting for them idles.
 */
export const PARALLEL_YIELD_MS = 1;

/** A channel end handed to a worker: which channel of the plan, which end, and how to open it. */
export interface EndpointGrant {
  readonly id: number;
  readonly end: 'sender' | 'receiver';
  readonly endpoint: unknown;
}

/** What a worker thread starts with. */
export interface WorkerStart {
  readonly slot: number;
  /** The job module and the arguments its default export is called with. */
  readonly module: string;
  readonly args: readonly string[];
  /** The run's default parallelism. */
  readonly parallelism: number;
  /** The main thread's `RuntimeConfig.executionId`. */
  readonly executionId: string;
  /** The graph as the main thread built it: the worker's own instance must match. */
  readonly fingerprint: string;
  readonly restore: CheckpointData | undefined;
  readonly endpoints: readonly EndpointGrant[];
  /** Whether the job checkpoints (tasks acknowledge barriers only then). */
  readonly checkpoints: boolean;
  /** Whether the job counts metrics (the worker reports its subtasks' counters). */
  readonly metrics: boolean;
  /** The attempt's stamp words, which the main thread's watchdog reads (undefined: no watchdog). */
  readonly stamps: SharedArrayBuffer | undefined;
  /** Tasks the previous attempt was stuck in (see `ExecuteOptions.diagnose`). */
  readonly diagnose?: readonly string[] | undefined;
}

/** Messages from the main thread to a worker. */
export type ToWorker =
  | { readonly type: 'barrier'; readonly id: number }
  | { readonly type: 'complete'; readonly id: number }
  | { readonly type: 'final'; readonly task: string; readonly id: number | undefined }
  /** The main thread's dead-letter queue had room for this many of the worker's letters. */
  | { readonly type: 'dead-letter-credit'; readonly letters: number }
  /** Stop every task; `failed`: the attempt failed (its state backends drop their files). */
  | { readonly type: 'stop'; readonly failed?: boolean };

/** Messages from a worker to the main thread. */
export type FromWorker =
  | { readonly type: 'ack'; readonly id: number; readonly task: string; readonly steps: Record<string, TaskStepState>; readonly alignmentMs: number }
  | { readonly type: 'finished'; readonly task: string; readonly steps: Record<string, TaskStepState> }
  | { readonly type: 'dead-letters'; readonly letters: DeadLetter[] }
  /** The slot has built its subtasks and starts them. */
  | { readonly type: 'started' }
  | { readonly type: 'consumed' }
  | { readonly type: 'metrics'; readonly report: RemoteMetrics }
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'done' };

/** An error as it crosses threads (a SluiceError keeps its code, hint and step). */
export interface WireError {
  readonly code?: string;
  readonly message: string;
  readonly hint?: string;
  readonly detail?: string;
  readonly step?: string;
  readonly name?: string;
  readonly stack?: string;
}

export function toWire(e: unknown): WireError {
  if (e instanceof SluiceError) {
    const first = e.message.split('\n')[0]!.replace(`[${e.code}] `, '');
    return { code: e.code, message: first, hint: e.hint, detail: e.detail, step: e.step, stack: e.stack };
  }
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { message: String(e) };
}

export function fromWire(w: WireError, slot: number): Error {
  if (w.code !== undefined && w.code in ERROR_CATALOG) {
    return new SluiceError(w.code as ErrorCode, w.message, { hint: w.hint, detail: w.detail, step: w.step });
  }
  const e = new Error(`${w.message} (in worker thread ${slot})`);
  if (w.name) e.name = w.name;
  if (w.stack) e.stack = w.stack;
  return e;
}

/**
 * Dead letters as they can cross to the main thread: most as they are, one whose record
 * structured clone refuses as its {@link cloneableLetter} (never lost to a `DataCloneError`).
 */
export function cloneableLetters(letters: DeadLetter[]): DeadLetter[] {
  return letters.map((letter) => {
    try {
      structuredClone(letter.record);
      return letter;
    } catch {
      return cloneableLetter(letter);
    }
  });
}

/** What identifies a job's graph: steps, kinds and edges. Worker threads check theirs against the main thread's. */
export function graphFingerprint(nodes: ReadonlyArray<{ uid: string; kind: string; parallelism?: number | undefined; inputs: ReadonlyArray<{ from: { uid: string }; partitioner: string; input: number; tag?: string | undefined }> }>): string {
  return nodes
    .map((n) => `${n.uid}:${n.kind}:${n.parallelism ?? ''}<${n.inputs.map((e) => `${e.from.uid}/${e.partitioner}/${e.input}/${e.tag ?? ''}`).join(',')}`)
    .join(';');
}
