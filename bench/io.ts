/**
 * Bench-only source and sink: a bounded source that makes records by index, in batches of
 * the job's batch size, and a sink that counts and sums what reaches it. Both do the least
 * that the Source and Sink contracts allow, so that what is measured is the engine.
 */
import type { Sink } from '../src/connectors/sink.js';
import type { Source, SourceBatch } from '../src/connectors/source.js';

/**
 * `count` records, record i being `make(i)`: the same function the loop side calls, so
 * both sides pay the same allocation.
 */
export function indexedSource<T>(count: number, make: (i: number) => T): Source<T> {
  return {
    kind: 'bench-indexed',
    bounded: true,
    describe: () => `${count} records made by index`,
    createReader(ctx) {
      const batchSize = ctx.maxBatchSize;
      let next = 0;
      return {
        poll(): Promise<SourceBatch<T>> {
          const end = Math.min(count, next + batchSize);
          const values = new Array<T>(end - next);
          for (let j = 0, i = next; i < end; i++, j++) values[j] = make(i);
          next = end;
          return Promise.resolve(end >= count ? { values, done: true } : { values });
        },
        close: () => Promise.resolve(),
      };
    },
  };
}

/** Counts the records that reach it and sums `weigh(record)` over them. */
export class CountingSink<T> implements Sink<T> {
  readonly kind = 'bench-counting';
  outputs = 0;
  checksum = 0;

  constructor(private readonly weigh: (value: T) => number) {}

  createWriter() {
    const weigh = this.weigh;
    return {
      write: (values: T[]): void => {
        let sum = this.checksum;
        for (let i = 0; i < values.length; i++) sum += weigh(values[i]!);
        this.checksum = sum;
        this.outputs += values.length;
      },
      close: () => Promise.resolve(),
    };
  }
}
