/**
 * Small helpers shared by the engine tests: a collecting sink (until `collectSink` lands
 * in connectors/collect), a slow sink, and a short wait on the event loop.
 */
import { Wakeup, wait } from '../src/connectors/shared/wait.js';
import type { Sink } from '../src/connectors/sink.js';
import type { Source } from '../src/connectors/source.js';

/** What a collecting sink received, in arrival order, with event timestamps. */
export interface Collected<T> {
  readonly values: T[];
  readonly timestamps: number[];
  /** The sink's `write` calls (batches as the sink saw them). */
  readonly batches: number;
}

/** A sink that keeps every record it receives. */
export function collecting<T>(): { sink: Sink<T>; out: Collected<T> } {
  const out = { values: [] as T[], timestamps: [] as number[], batches: 0 };
  const sink: Sink<T> = {
    kind: 'test-collect',
    createWriter: () => ({
      write(values, timestamps) {
        out.batches++;
        for (let i = 0; i < values.length; i++) {
          out.values.push(values[i]!);
          out.timestamps.push(timestamps[i]!);
        }
      },
      close: async () => {},
    }),
  };
  return { sink, out };
}

/** A sink whose every write takes `ms` milliseconds of wall time (a slow destination). */
export function slowSink<T>(ms: number): { sink: Sink<T>; received: () => number } {
  let n = 0;
  const sink: Sink<T> = {
    kind: 'test-slow',
    createWriter: () => ({
      write(values) {
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            n += values.length;
            resolve();
          }, ms),
        );
      },
      close: async () => {},
    }),
  };
  return { sink, received: () => n };
}

/** Lets queued promise callbacks and immediates run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw, but the call returned');
}

/**
 * An unbounded source the test feeds by hand: `push` hands records (with event
 * timestamps) to the running reader, `end` finishes it. Its reader waits on the job's
 * clock and wakes at once when records are pushed.
 */
export function pushSource<T>(): { source: Source<T>; push: (values: T[], timestamps?: number[]) => void; end: () => void } {
  const queue: Array<{ value: T; ts: number }> = [];
  let ended = false;
  const wakeup = new Wakeup();
  const source: Source<T> = {
    kind: 'test-push',
    bounded: false,
    createReader: (ctx) => ({
      async poll() {
        if (queue.length === 0 && !ended) await wait(ctx.clock, ctx.maxPollWaitMs, ctx.signal, wakeup);
        const taken = queue.splice(0, ctx.maxBatchSize);
        return { values: taken.map((e) => e.value), timestamps: taken.map((e) => e.ts), done: ended && queue.length === 0 };
      },
      close: async () => {},
    }),
  };
  return {
    source,
    push(values, timestamps) {
      values.forEach((value, i) => queue.push({ value, ts: timestamps ? timestamps[i]! : Number.NaN }));
      wakeup.wake();
    },
    end() {
      ended = true;
      wakeup.wake();
    },
  };
}
