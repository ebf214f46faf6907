import type { Sink, SinkWriter } from '../../connectors/sink.js';

/** A transaction of {@link memoryTwoPhaseSink}: its id and the records it holds. */
interface MemoryTransaction<T> {
  readonly id: string;
  readonly values: T[];
}

/**
 * An in-memory two-phase-commit sink for connector suites: records become visible in
 * `committed` only when their transaction commits; a commit is idempotent (by
 * transaction id); `recover` commits the restored transactions and drops the rest, as a
 * real transactional sink would. It lives across restarts of a job in one process.
 *
 * @example
 * const out = memoryTwoPhaseSink<Order>();
 * const job = new Job({ checkpoints: { interval: '20ms' }, delivery: 'exactly-once' });
 * job.source(mySource, { uid: 'in' }).sinkTo(out, { uid: 'out' });
 * await job.run();
 * out.committed; // each record once, despite restarts in between
 */
export function memoryTwoPhaseSink<T>(): Sink<T> & { readonly committed: T[] } {
  const committed: T[] = [];
  const done = new Set<string>();
  let txSeq = 0;
  const commit = (txs: unknown[]): void => {
    for (const t of txs as MemoryTransaction<T>[]) {
      if (done.has(t.id)) continue;
      done.add(t.id);
      committed.push(...t.values);
    }
  };
  return {
    kind: 'memory-2pc',
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    committed,
    createWriter: (ctx): SinkWriter<T> => {
      let buffer: T[] = [];
      return {
        write: (values) => {
          buffer.push(...values);
          if (!ctx.transactional) {
            commit([{ id: `direct-${txSeq++}`, values: buffer }]);
            buffer = [];
          }
        },
        preCommit: () => {
          if (buffer.length === 0) return undefined;
          const tx: MemoryTransaction<T> = { id: `tx-${txSeq++}`, values: buffer };
          buffer = [];
          return tx;
        },
        commit: async (txs) => commit(txs),
        recover: async (txs) => commit(txs),
        flush: async () => commit([{ id: `flush-${txSeq++}`, values: buffer.splice(0) }]),
        close: async () => {},
      };
    },
  };
}
