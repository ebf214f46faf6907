import type { Sink } from '../connectors/sink.js';

/** A record as a test output saw it. */
export interface OutputRecord<T> {
  readonly value: T;
  /** The event timestamp, or undefined when the record has none. */
  readonly timestamp: number | undefined;
}

/** Collects what reaches a sink, for assertions. */
export class TestOutput<T> {
  readonly records: OutputRecord<T>[] = [];
  /** Calls to the sink's flush (the end of a bounded job). */
  flushes = 0;

  /** The values in arrival order. */
  get values(): T[] {
    return this.records.map((r) => r.value);
  }
  /** Takes the records seen so far and forgets them (to assert step by step). */
  take(): T[] {
    return this.records.splice(0, this.records.length).map((r) => r.value);
  }

  readonly sink: Sink<T> = {
    kind: 'test-output',
    describe: () => 'records kept for the test',
    createWriter: () => ({
      write: (values, timestamps) => {
        for (let i = 0; i < values.length; i++) {
          const ts = timestamps[i]!;
          this.records.push({ value: values[i]!, timestamp: Number.isNaN(ts) ? undefined : ts });
        }
      },
      flush: async () => {
        this.flushes++;
      },
      close: async () => {},
    }),
  };
}
