import { SluiceError } from '../../errors/index.js';
import { wait } from '../shared/wait.js';
import { IndexSplits, initialSplits, redistributeSplits } from '../shared/index-splits.js';
import { checkTimestamp, timestampThrew } from '../shared/timestamp.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';

/** Options of {@link generator}. */
export interface GeneratorOptions<T> {
  /** Makes the record with this index (0, 1, 2, …). */
  make: (index: number) => T;
  /** How many records to make; the source is bounded when set and unbounded otherwise. */
  count?: number;
  /** Records per second of processing time; as fast as polled when omitted. */
  ratePerSecond?: number;
  /** The event timestamp (epoch ms) of each record; without it records carry none. */
  timestamp?: (value: T, index: number) => number;
}

/** A generator's reader; `position()` is the index of the next record it will make. */
export interface GeneratorReader<T> extends SourceReader<T> {
  /** How many records this reader has made: with one reader, the index of the next record. */
  position(): { index: number };
}

/** The source {@link generator} returns: replayable (by position) and parallel; bounded when `count` is set. */
export interface GeneratorSource<T> extends Source<T> {
  readonly kind: 'generator';
  describe(): string;
  createReader(ctx: SourceContext): GeneratorReader<T>;
}

/**
 * A source that makes records from their index: bounded when `count` is set, endless
 * otherwise. Without `ratePerSecond` each poll returns a full batch. With it, the
 * generator follows the schedule "record i is due `i / rate` seconds after the first
 * poll" (the first record is due at once) on `ctx.clock`: each poll returns the records
 * that have come due (at most one batch), or sleeps until the next one is due but never
 * longer than `ctx.maxPollWaitMs`.
 *
 * Catch-up is bounded: when the pipeline falls behind (backpressure, a pause) by more
 * than one batch, the excess is forgiven rather than emitted in a burst, so no poll ever
 * returns more than `ctx.maxBatchSize` and the rate afterwards is again `ratePerSecond`.
 * The long-run rate equals `ratePerSecond` whenever the pipeline keeps up
 * (see `generator.test.ts`). In parallel, reader i of p makes records i, i + p, … at
 * `ratePerSecond / p`, so together they make the same records at the same rate. A
 * checkpoint restores at another parallelism: the readers' unmade records are dealt to the
 * new ones as splits (`shared/index-splits.ts`), each made in index order.
 *
 * @example
 * // 1000 orders per second, forever, without event timestamps (give `timestamp` for them).
 * const orders = generator({
 *   make: (i) => ({ id: i, amount: (i * 37) % 100 }),
 *   ratePerSecond: 1000,
 * });
 * // Exactly 5 records, as fast as the job can take them.
 * const five = generator({ make: (i) => i * i, count: 5 }); // 0, 1, 4, 9, 16
 */
export function generator<T>(opts: GeneratorOptions<T>): GeneratorSource<T> {
  if (opts == null || typeof opts.make !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'generator: `make` must be a function (index) => record');
  }
  const { make, count, ratePerSecond: rateAll, timestamp } = opts;
  if (count !== undefined && !(Number.isSafeInteger(count) && count >= 0)) {
    throw new SluiceError('INVALID_ARGUMENT', `generator: \`count\` must be a non-negative integer, got ${String(count)}`);
  }
  if (rateAll !== undefined && !(typeof rateAll === 'number' && Number.isFinite(rateAll) && rateAll > 0)) {
    throw new SluiceError('INVALID_ARGUMENT', `generator: \`ratePerSecond\` must be a positive, finite number, got ${String(rateAll)}`);
  }
  if (timestamp !== undefined && typeof timestamp !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'generator: `timestamp` must be a function (record, index) => epoch milliseconds');
  }

  return {
    kind: 'generator',
    bounded: count !== undefined,
    replayable: true,
    parallel: true,
    redistributePositions: (positions, reader) => redistributeSplits(positions, reader, count),
    describe: () =>
      `generator of ${count === undefined ? 'unbounded' : count} record${count === 1 ? '' : 's'}` +
      `${rateAll === undefined ? ', unrated' : ` at ${rateAll}/s`}${timestamp ? ' with timestamps' : ''}`,
    createReader(ctx) {
      const batchSize = Math.max(1, ctx.maxBatchSize);
      // In parallel, reader i of p makes records i, i + p, i + 2p, … at rate / p; after a
      // restore at another parallelism, the splits it was dealt (`index-splits.ts`).
      const splits = new IndexSplits(initialSplits(ctx.restoredPosition, ctx.subtask), count);
      const rate = rateAll === undefined ? undefined : rateAll * splits.share;
      // Records made by this reader since it opened (the schedule counts from its first poll).
      let made = 0;
      let startedAt: number | undefined; // clock time of the first poll: record 0 is due then
      // Records skipped over by the bounded catch-up (never made).
      let forgiven = 0;

      // Records due by `now` under the schedule, counting forgiven ones as made. The
      // epsilon keeps float rounding from leaving a record undue at its own due time.
      const dueBy = (now: number): number => Math.floor(((now - startedAt!) * rate!) / 1000 + 1e-9) + 1;
      const owed = (now: number): number => {
        const n = dueBy(now) - forgiven - made;
        if (n > batchSize) {
          forgiven += n - batchSize; // bounded catch-up: see the doc comment
          return batchSize;
        }
        return Math.max(0, n);
      };

      // Arrays of their final size, and the timestamp function called directly (its
      // failure message built only on failure): this loop runs once per record.
      const makeBatch = (n: number): SourceBatch<T> => {
        const values = new Array<T>(n);
        const timestamps = timestamp ? new Array<number>(n) : undefined;
        for (let k = 0; k < n; k++) {
          const index = splits.take();
          let value: T;
          try {
            value = make(index);
          } catch (error) {
            throw new SluiceError('USER_FUNCTION_FAILED', `generator: make(${index}) threw`, {
              detail: error instanceof Error ? error.message : String(error),
              step: ctx.uid,
              cause: error,
            });
          }
          values[k] = value;
          if (timestamps !== undefined) {
            let ts: unknown;
            try {
              ts = timestamp!(value, index);
            } catch (error) {
              throw timestampThrew(error, `generator: timestamp(…, ${index})`, value, ctx.uid);
            }
            timestamps[k] = typeof ts === 'number' && Number.isFinite(ts) ? ts : checkTimestamp(ts, `generator: timestamp(…, ${index})`, value, ctx.uid);
          }
        }
        made += n;
        const batch: SourceBatch<T> = { values };
        if (timestamps) batch.timestamps = timestamps;
        if (splits.remaining === 0) batch.done = true;
        return batch;
      };

      return {
        async poll(): Promise<SourceBatch<T>> {
          const remaining = splits.remaining;
          if (remaining <= 0) return { values: [], done: true };
          if (rate === undefined) return makeBatch(Math.min(batchSize, remaining));

          const clock = ctx.clock;
          startedAt ??= clock.now();
          let n = owed(clock.now());
          if (n === 0) {
            // Sleep until the next record is due, or for maxPollWaitMs at most.
            const nextDueAt = startedAt + Math.ceil(((made + forgiven) * 1000) / rate);
            const ms = Math.min(Math.max(0, nextDueAt - clock.now()), Math.max(0, ctx.maxPollWaitMs));
            const outcome = await wait(clock, ms, ctx.signal);
            if (outcome === 'aborted') return { values: [] };
            n = owed(clock.now());
          }
          return makeBatch(Math.min(n, remaining));
        },
        position: () => ({ index: splits.taken }),
        snapshotPosition: () => splits.position(),
        backlog: () => (count === undefined ? undefined : splits.remaining),
        async close() {},
      };
    },
  };
}
