import type { Sink, SinkWriter } from '../sink.js';

/** A record a {@link collectSink} received: the value and its event timestamp (NaN when none). */
export interface CollectedRecord<T> {
  readonly value: T;
  readonly timestamp: number;
}

/**
 * What {@link collectSink} returns: a sink (use it as one directly, or as `.sink`) and
 * what it has received so far.
 */
export interface CollectSink<T> extends Sink<T> {
  readonly kind: 'collect';
  describe(): string;
  /** This same object, for code that reads better as `sinkTo(out.sink)`. */
  readonly sink: Sink<T>;
  /** Every value received, in arrival order (a live array: it grows as the job runs). */
  readonly values: T[];
  /** Timestamps parallel to `values` (a live array; NaN where a record had none). */
  readonly timestamps: number[];
  /** Values with their timestamps (a fresh array on each read). */
  readonly records: CollectedRecord<T>[];
  /** How many values have arrived. */
  readonly count: number;
  /** Whether a writer was flushed (the end of a bounded job). */
  readonly flushed: boolean;
  /** Whether a writer was closed (the job ended, however it ended). */
  readonly closed: boolean;
  /**
   * Resolves with `values` once at least `count` values have arrived, or as soon as a
   * writer closes (then possibly with fewer: the job ended, check the length), or when
   * `signal` aborts.
   */
  waitFor(count: number, opts?: { signal?: AbortSignal }): Promise<T[]>;
  /** Forgets everything received so far. */
  clear(): void;
}

/**
 * A sink that keeps every record in memory, for tests and small local runs.
 *
 * Writers of the same collectSink (parallelism > 1 in one process) append to the same
 * arrays, so their records interleave: compare as multisets, or sort first. It cannot
 * collect across worker threads or processes.
 *
 * @example
 * const out = collectSink<number>();
 * job.source(fromCollection([1, 2, 3]), { uid: 'n' }).map((n) => n * 2).sinkTo(out);
 * await job.run();
 * out.values; // [2, 4, 6]
 * out.records; // [{ value: 2, timestamp: NaN }, …]
 */
export function collectSink<T>(): CollectSink<T> {
  const values: T[] = [];
  const timestamps: number[] = [];
  let flushed = false;
  let closed = false;
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  const notify = (): void => {
    const ready = waiters.filter((w) => closed || values.length >= w.count);
    if (ready.length === 0) return;
    waiters = waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  };

  const collector: CollectSink<T> = {
    kind: 'collect',
    describe: () => 'collect (in memory)',
    get sink() {
      return collector;
    },
    values,
    timestamps,
    get records() {
      return values.map((value, i) => ({ value, timestamp: timestamps[i]! }));
    },
    get count() {
      return values.length;
    },
    get flushed() {
      return flushed;
    },
    get closed() {
      return closed;
    },
    waitFor(count, opts = {}) {
      return new Promise<T[]>((resolve) => {
        if (closed || values.length >= count || opts.signal?.aborted) {
          resolve(values);
          return;
        }
        const waiter = {
          count,
          resolve: () => {
            opts.signal?.removeEventListener('abort', onAbort);
            resolve(values);
          },
        };
        const onAbort = (): void => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve(values);
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    clear() {
      values.length = 0;
      timestamps.length = 0;
    },
    createWriter(): SinkWriter<T> {
      return {
        write(batch, ts) {
          for (let i = 0; i < batch.length; i++) {
            values.push(batch[i]!);
            timestamps.push(ts[i] ?? Number.NaN);
          }
          notify();
        },
        async flush() {
          flushed = true;
        },
        async close() {
          closed = true;
          notify();
        },
      };
    },
  };
  return collector;
}
