import { SluiceError } from '../../errors/index.js';
import type { Sink, SinkWriter } from '../sink.js';

/** The sink {@link callbackSink} returns: one writer, records in order, at-least-once. */
export interface CallbackSink<T> extends Sink<T> {
  readonly kind: 'callback';
  describe(): string;
}

/**
 * Calls `fn` for each record, in order. When `fn` returns a promise, the next record
 * waits for it (so records are handled one after another, and a slow callback slows the
 * job); a batch whose calls all return synchronously costs no promise. An error thrown
 * (or rejected) by `fn` propagates unchanged: the runtime reports it as the failure of
 * the sink step, with the step's uid.
 *
 * @example
 * stream.sinkTo(callbackSink(async (alert, ts) => { await pager.send(alert, new Date(ts)); }));
 */
export function callbackSink<T>(fn: (value: T, timestamp: number) => void | Promise<void>): CallbackSink<T> {
  if (typeof fn !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `callbackSink: expected a function (value, timestamp) => void, got ${typeof fn}`);
  }
  return {
    kind: 'callback',
    describe: () => `callback ${fn.name ? `'${fn.name}'` : '(anonymous)'}`,
    createWriter(): SinkWriter<T> {
      return {
        write(values, timestamps) {
          for (let i = 0; i < values.length; i++) {
            const r = fn(values[i]!, timestamps[i] ?? Number.NaN);
            if (isThenable(r)) return finishAsync(r, values, timestamps, i + 1);
          }
        },
        async close() {},
      };
    },
  };

  async function finishAsync(pending: PromiseLike<void>, values: T[], timestamps: number[], from: number): Promise<void> {
    await pending;
    for (let i = from; i < values.length; i++) await fn(values[i]!, timestamps[i] ?? Number.NaN);
  }
}

function isThenable(x: unknown): x is PromiseLike<void> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
