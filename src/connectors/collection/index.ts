import { SluiceError } from '../../errors/index.js';
import { callTimestamp } from '../shared/timestamp.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';

export interface CollectionOptions<T> {
  /** The event timestamp (epoch ms) of each value; without it records carry none. */
  timestamps?: (value: T) => number;
}

/** A reader of a collection; `position()` is the index of the next value to hand out. */
export interface CollectionReader<T> extends SourceReader<T> {
  position(): { index: number };
}

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
    describe: () => `collection of ${all.length} value${all.length === 1 ? '' : 's'}${timestamps ? ' with timestamps' : ''}`,
    createReader(ctx) {
      // In parallel, reader i of p hands out values i, i + p, i + 2p, … (in that order).
      const { index: i, parallelism: p } = ctx.subtask;
      const items = p === 1 ? all : all.filter((_, k) => k % p === i);
      let next = (ctx.restoredPosition as { index: number } | undefined)?.index ?? 0;
      return {
        async poll(): Promise<SourceBatch<T>> {
          const end = Math.min(items.length, next + Math.max(1, ctx.maxBatchSize));
          const batch = items.slice(next, end);
          next = end;
          const out: SourceBatch<T> = { values: batch };
          if (timestamps) {
            out.timestamps = batch.map((v) => callTimestamp(timestamps, [v], 'fromCollection: timestamps()', v, ctx.uid));
          }
          if (next >= items.length) out.done = true;
          return out;
        },
        position: () => ({ index: next }),
        snapshotPosition: () => ({ index: next }),
        backlog: () => items.length - next,
        async close() {},
      };
    },
  };
}
