/**
 * Contexts for testing connectors without the runtime: a {@link SourceContext} that
 * records bad records, a {@link SinkContext}, and helpers that read a source to its end
 * ({@link readAll}, {@link drain}) and drive a manual clock while a promise settles
 * ({@link settle}). Exported from `sluice/testing`.
 */
import { randomUUID } from 'node:crypto';
import { SluiceError, describeRecord } from '../errors/index.js';
import { ManualClock, SystemClock, type Clock } from '../time/clock.js';
import type { SinkContext } from '../connectors/sink.js';
import type { Source, SourceContext, SourceReader } from '../connectors/source.js';

/** One call a reader made to {@link SourceContext.badRecord}. */
export interface BadRecordCall {
  readonly raw: string | Uint8Array;
  readonly error: unknown;
  readonly position: string;
}

/** Options of {@link testSourceContext}: each one not given gets a default for a single reader. */
export interface TestSourceContextOptions {
  /** Defaults to a {@link SystemClock}; pass a {@link ManualClock} to drive time by hand. */
  clock?: Clock;
  /** Defaults to `'test-source'`. */
  uid?: string;
  /** Defaults to 1000. */
  maxBatchSize?: number;
  /** Which reader of a `parallel` source; defaults to `{ index: 0, parallelism: 1 }`. */
  subtask?: { index: number; parallelism: number };
  /** Defaults to 50. */
  maxPollWaitMs?: number;
  /**
   * `'record'` (default) keeps each bad record in `ctx.badRecords` and lets the reader
   * carry on, like the `dead-letter` policy; `'fail'` throws BAD_RECORD, like the `fail` policy.
   */
  badRecords?: 'record' | 'fail';
}

/** A {@link SourceContext} for tests, with its abort controller and the bad records it saw. */
export interface TestSourceContext extends SourceContext {
  readonly controller: AbortController;
  /** Every `badRecord` call so far (under `'fail'` too, before the throw). */
  readonly badRecords: BadRecordCall[];
  /** Aborts `signal`, as cancelling the job would. */
  abort(): void;
}

/**
 * Makes a {@link SourceContext} for testing a source without the runtime.
 *
 * @example
 * const ctx = testSourceContext({ clock: new ManualClock(0), maxBatchSize: 2 });
 * const reader = fromCollection([1, 2, 3]).createReader(ctx);
 * await reader.poll(); // { values: [1, 2] }
 */
export function testSourceContext(opts: TestSourceContextOptions = {}): TestSourceContext {
  const controller = new AbortController();
  const badRecords: BadRecordCall[] = [];
  const policy = opts.badRecords ?? 'record';
  const uid = opts.uid ?? 'test-source';
  return {
    uid,
    subtask: opts.subtask ?? { index: 0, parallelism: 1 },
    clock: opts.clock ?? new SystemClock(),
    maxBatchSize: opts.maxBatchSize ?? 1000,
    maxPollWaitMs: opts.maxPollWaitMs ?? 50,
    signal: controller.signal,
    controller,
    badRecords,
    abort: () => controller.abort(),
    badRecord(raw, error, position) {
      badRecords.push({ raw, error, position });
      if (policy === 'fail') {
        throw new SluiceError('BAD_RECORD', `step '${uid}': bad record at ${position}: ${describeRecord(String(raw))}`, {
          detail: error instanceof Error ? error.message : String(error),
          step: uid,
          cause: error,
        });
      }
    },
  };
}

/**
 * Makes a {@link SinkContext} for testing a sink without the runtime: writer 0 of 1,
 * the system clock, not transactional, a fresh execution id, unless `opts` says otherwise.
 *
 * @example
 * const writer = mySink.createWriter(testSinkContext({ transactional: true }));
 * await writer.open?.();
 */
export function testSinkContext(opts: { clock?: Clock; uid?: string; transactional?: boolean; subtask?: SinkContext['subtask']; executionId?: string } = {}): SinkContext {
  return {
    uid: opts.uid ?? 'test-sink',
    subtask: opts.subtask ?? { index: 0, parallelism: 1 },
    clock: opts.clock ?? new SystemClock(),
    transactional: opts.transactional ?? false,
    executionId: opts.executionId ?? randomUUID().slice(0, 12),
  };
}

/** What {@link readAll} read. */
export interface ReadResult<T> {
  values: T[];
  /** Parallel to `values`; NaN where a batch carried no timestamps. */
  timestamps: number[];
  /** How many polls it took. */
  polls: number;
}

/**
 * Opens a reader of a bounded `source`, polls it until it says `done`, closes it and
 * returns everything read. Fails after `maxPolls` polls, so a source that never ends
 * fails the test instead of hanging it.
 *
 * @example
 * const { values } = await readAll(fromCollection(['a', 'b']));
 */
export async function readAll<T>(
  source: Source<T>,
  ctx: SourceContext = testSourceContext(),
  opts: { maxPolls?: number } = {},
): Promise<ReadResult<T>> {
  const reader = source.createReader(ctx);
  try {
    await reader.open?.();
    return await drain(reader, opts);
  } finally {
    await reader.close();
  }
}

/**
 * Polls an open reader until it says `done` (at most `maxPolls` times, default 100 000),
 * leaving it open: for a reader a test opened and keeps using (positions, close).
 *
 * @example
 * const reader = fromCollection([1, 2, 3]).createReader(testSourceContext());
 * const { values } = await drain(reader); // [1, 2, 3]
 * reader.snapshotPosition?.(1);
 */
export async function drain<T>(reader: SourceReader<T>, opts: { maxPolls?: number } = {}): Promise<ReadResult<T>> {
  const maxPolls = opts.maxPolls ?? 100_000;
  const out: ReadResult<T> = { values: [], timestamps: [], polls: 0 };
  for (;;) {
    if (out.polls >= maxPolls) {
      throw new SluiceError('INTERNAL', `drain: the reader did not finish within ${maxPolls} polls`);
    }
    const batch = await reader.poll();
    out.polls++;
    out.values.push(...batch.values);
    out.timestamps.push(...(batch.timestamps ?? batch.values.map(() => Number.NaN)));
    if (batch.done) return out;
  }
}

/**
 * Awaits `promise` while driving `clock`: whenever something waits on the clock and the
 * promise has not settled, advances it by `stepMs` (default 1). Between steps it yields
 * to the event loop, so file and socket I/O make progress. Fails after `maxTurns`.
 *
 * @example
 * const clock = new ManualClock(0);
 * const batch = await settle(clock, reader.poll(), { stepMs: 10 });
 */
export async function settle<T>(
  clock: ManualClock,
  promise: Promise<T>,
  opts: { stepMs?: number; maxTurns?: number } = {},
): Promise<T> {
  const stepMs = opts.stepMs ?? 1;
  const maxTurns = opts.maxTurns ?? 100_000;
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => {}); // the caller sees the rejection through the returned promise
  for (let turn = 0; !done; turn++) {
    if (turn >= maxTurns) throw new SluiceError('INTERNAL', `settle: the promise did not settle within ${maxTurns} turns`);
    await new Promise((resolve) => setImmediate(resolve));
    if (!done && clock.scheduledCount > 0) clock.advance(stepMs);
  }
  return tracked;
}
