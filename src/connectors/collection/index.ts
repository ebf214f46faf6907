import { SluiceError } from '../../errors/index.js';
import { IndexSplits, initialSplits, redistributeSplits } from '../shared/index-splits.js';
import { callTimestamp } from '../shared/timestamp.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';

/** Options of {@link fromCollection}. */
export interface CollectionOptions<T> {
  /** The event timestamp (epoch ms) of each value; without it records carry none. */
  timestamps?: (value: T) => number;
}

/** A reader of a collection; `position()` is the index of the next value to hand out. */
export interface CollectionReader<T> extends SourceReader<T> {
  /** How many values this reader has handed out: with one reader, the index of the next value. */
  position(): { index: number };
}

/** The source {@link fromCollection} returns: bounded, replayable (by position) and parallel. */
export interface CollectionSource<T> extends Source<T> {
  readonly kind: 'collection';
  readonly bounded: true;
  describe(): string;
  createReader(ctx: SourceContext): CollectionReader<T>;
}

/**
 * A bounded source over values in memory: hands them out in order, at most
 * `ctx.maxBatchSize` per poll, then ends. The iterable is copied once when the source is
 * built (it must be finite), so every reader replays the same values even when it was a
 * one-shot generator. In parallel, reader i of p reads the values at positions i, i + p, …
 * (a checkpoint restores at another parallelism: see `shared/index-splits.ts`)
 *
 * @example
 * const clicks = fromCollection(
 *   [{ user: 'a', at: 1000 }, { user: 'b', at: 2000 }],
 *   { timestamps: (c) => c.at },
 * );
 * const { values, timestamps } = await readAll(clicks); // timestamps: [1000, 2000]
 */
export function fromCollection<T>(values: Iterable<T>, opts: CollectionOptions<T> = {}): CollectionSource<T> {
  if (values == null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `fromCollection: expected an iterable (an array, a Set, a generator…), got ${typeof values}`);
  }
  if (opts.timestamps !== undefined && typeof opts.timestamps !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'fromCollection: `timestamps` must be a function (value) => epoch milliseconds');
  }
  const all: readonly T[] = Array.from(values);
  const timestamps = opts.timestamps;
  return {
    kind: 'collection',
    bounded: true,
    replayable: true,
    parallel: true,
    redistributePositions: (positions, reader) => redistributeSplits(positions, reader, all.length),
    describe: () => `collection of ${all.length} value${all.length === 1 ? '' : 's'}${timestamps ? ' with timestamps' : ''}`,
    createReader(ctx) {
      // In parallel, reader i of p hands out values i, i + p, i + 2p, … (in that order);
      // after a restore at another parallelism, those of the splits it was dealt.
      const splits = new IndexSplits(initialSplits(ctx.restoredPosition, ctx.subtask), all.length);
      return {
        async poll(): Promise<SourceBatch<T>> {
          const n = Math.min(splits.remaining, Math.max(1, ctx.maxBatchSize));
          const batch = new Array<T>(n);
          for (let k = 0; k < n; k++) batch[k] = all[splits.take()]!;
          const out: SourceBatch<T> = { values: batch };
          if (timestamps) {
            out.timestamps = batch.map((v) => callTimestamp(timestamps, [v], 'fromCollection: timestamps()', v, ctx.uid));
          }
          if (splits.remaining === 0) out.done = true;
          return out;
        },
        position: () => ({ index: splits.taken }),
        snapshotPosition: () => splits.position(),
        backlog: () => splits.remaining,
        async close() {},
      };
    },
  };
}
