import type { Source, SourceBatch } from '../connectors/source.js';

type Item<T> = { kind: 'record'; value: T; timestamp: number } | { kind: 'watermark'; watermark: number } | { kind: 'end' };

/**
 * An input the test drives by hand: push records with timestamps, push watermarks, end
 * it. Its source reports the pushed watermarks itself (no WatermarkStrategy needed).
 *
 * @example
 * const clicks = harness.input<Click>('clicks');
 * clicks.push({ user: 'a' }, 1000);
 * clicks.pushWatermark(1999);
 */
export class TestInput<T> {
  private items: Item<T>[] = [];
  private waiting: (() => void) | undefined;
  private ended = false;

  /** Adds a record with its event timestamp (omit it for a record without one). */
  push(value: T, timestamp = Number.NaN): this {
    this.add({ kind: 'record', value, timestamp });
    return this;
  }
  /** Adds several records with timestamps: `[value, timestamp]` pairs. */
  pushAll(records: Iterable<readonly [T, number]>): this {
    for (const [value, timestamp] of records) this.push(value, timestamp);
    return this;
  }
  /** Declares that no record with timestamp <= `watermark` follows. */
  pushWatermark(watermark: number): this {
    this.add({ kind: 'watermark', watermark });
    return this;
  }
  /** Ends the input: the final watermark follows, firing every pending event-time timer. */
  end(): void {
    this.add({ kind: 'end' });
  }
  /** Whether everything pushed has been handed to the job. */
  get drained(): boolean {
    return this.items.length === 0;
  }

  private add(item: Item<T>): void {
    if (this.ended) throw new Error('TestInput: nothing can be pushed after end()');
    if (item.kind === 'end') this.ended = true;
    this.items.push(item);
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** The source to add to a job. */
  readonly source: Source<T> = {
    kind: 'test-input',
    bounded: false,
    describe: () => 'records pushed by the test',
    createReader: (ctx) => {
      let justFlushed = false;
      ctx.signal.addEventListener('abort', () => this.waiting?.(), { once: true });
      return {
        poll: async (): Promise<SourceBatch<T>> => {
          if (this.items.length === 0) {
            // Return empty once (the task flushes its outputs), then sleep until a push.
            if (!justFlushed) {
              justFlushed = true;
              return { values: [] };
            }
            await new Promise<void>((resolve) => {
              this.waiting = resolve;
            });
          }
          justFlushed = false;
          // Records up to the next control item go out as one batch; a watermark goes after them.
          const values: T[] = [];
          const timestamps: number[] = [];
          while (this.items.length > 0 && values.length < ctx.maxBatchSize) {
            const item = this.items[0]!;
            if (item.kind !== 'record') break;
            this.items.shift();
            values.push(item.value);
            timestamps.push(item.timestamp);
          }
          const next = this.items[0];
          if (values.length === 0 && next !== undefined) {
            this.items.shift();
            if (next.kind === 'watermark') return { values, watermark: next.watermark };
            return { values, done: true };
          }
          return { values, timestamps };
        },
        close: async () => {},
      };
    },
  };
}
