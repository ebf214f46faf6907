import type { Source, SourceBatch, SourceContext } from '../connectors/source.js';

/** A record that a step could not handle, routed to `job.deadLetters()` instead of failing the job. */
export interface DeadLetter {
  /** The uid of the step that failed. */
  readonly step: string;
  /** The record (or, from a source, the raw input text). */
  readonly record: unknown;
  readonly error: { readonly code: string; readonly message: string };
  /** Where the record came from, when known (a file and line). */
  readonly position?: string | undefined;
  /** Its event timestamp, when it had one. */
  readonly timestamp?: number | undefined;
}

/** Where tasks send dead letters: the job's queue, or in a worker thread, a forwarder to it. */
export interface DeadLetterOutput {
  push(letter: DeadLetter): void;
  readonly isFull: boolean;
  writable(): Promise<void>;
  /** The source of `job.deadLetters()` (its consumers must not wait for room in the queue). */
  readonly source: Source<DeadLetter>;
}

/**
 * Collects dead letters from every task of a job and serves them as the source of
 * `job.deadLetters()`. Bounded: tasks that dead-letter wait when it is full. It ends when
 * every task that could still dead-letter has finished.
 */
export class DeadLetterQueue implements DeadLetterOutput {
  private items: DeadLetter[] = [];
  private ended = false;
  private readerWaiting: (() => void) | undefined;
  private writers: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get isFull(): boolean {
    return this.items.length >= this.capacity;
  }
  get size(): number {
    return this.items.length;
  }

  push(letter: DeadLetter): void {
    this.items.push(letter);
    this.wakeReader();
  }

  writable(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /** Empties the queue for a new attempt of the job (after a restart). */
  reset(): void {
    this.items = [];
    this.ended = false;
  }

  /** No more dead letters will come. */
  end(): void {
    this.ended = true;
    this.wakeReader();
  }

  private wakeReader(): void {
    const w = this.readerWaiting;
    this.readerWaiting = undefined;
    w?.();
  }

  private take(max: number): DeadLetter[] {
    const out = this.items.splice(0, max);
    if (out.length > 0 && !this.isFull) {
      const w = this.writers;
      this.writers = [];
      for (const wake of w) wake();
    }
    return out;
  }

  /** The source that `job.deadLetters()` reads. */
  readonly source: Source<DeadLetter> = {
    kind: 'dead-letters',
    bounded: true,
    describe: () => 'records that steps could not handle',
    createReader: (context: SourceContext) => {
      context.signal.addEventListener('abort', () => this.wakeReader(), { once: true });
      return {
      poll: async (): Promise<SourceBatch<DeadLetter>> => {
        if (this.items.length === 0 && !this.ended && !context.signal.aborted) {
          await new Promise<void>((resolve) => {
            const cancel = context.clock.schedule(context.clock.now() + context.maxPollWaitMs, () => this.wakeReader());
            this.readerWaiting = () => {
              cancel();
              resolve();
            };
          });
        }
        const values = this.take(context.maxBatchSize);
        return { values, done: this.ended && this.items.length === 0 };
      },
      close: async () => {},
      };
    },
  };
}

/**
 * A dead letter that can cross to another thread: its record copied, with each value no
 * thread channel or structured clone can carry replaced by a string naming it (a function
 * by `'[function onEvent]'`, a symbol by `'[Symbol(tag)]'`, a cycle by `'[cycle]'`). Such
 * values are often why the record is a dead letter (`RECORD_NOT_TRANSFERABLE`); the
 * letter must still reach `job.deadLetters()` wherever its consumer runs.
 */
export function cloneableLetter(letter: DeadLetter): DeadLetter {
  return { ...letter, record: cloneableCopy(letter.record, new Set()) };
}

function cloneableCopy(v: unknown, open: Set<object>): unknown {
  if (typeof v === 'function') return `[function ${v.name || 'anonymous'}]`;
  if (typeof v === 'symbol') return `[${v.toString()}]`;
  if (v === null || typeof v !== 'object') return v;
  if (open.has(v)) return '[cycle]';
  open.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => cloneableCopy(x, open));
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [cloneableCopy(k, open), cloneableCopy(x, open)]));
    if (v instanceof Set) return new Set([...v].map((x) => cloneableCopy(x, open)));
    if (ArrayBuffer.isView(v) || v instanceof Date || v instanceof RegExp || v instanceof Error) return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = cloneableCopy((v as Record<string, unknown>)[key], open);
    return out;
  } finally {
    open.delete(v);
  }
}
