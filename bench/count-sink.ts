import type { Sink } from '../src/connectors/sink.js';

/** A sink that counts what it is given and resolves `all` once `n` records have arrived. */
export function countTo<T = unknown>(n: number): { sink: Sink<T>; all: Promise<void> } {
  let count = 0;
  let reached: () => void = () => {};
  const all = new Promise<void>((r) => (reached = r));
  const sink: Sink<T> = {
    kind: 'bench-count',
    createWriter: () => ({
      write: (values) => {
        count += values.length;
        if (count >= n) reached();
      },
      close: async () => {},
    }),
  };
  return { sink, all };
}
