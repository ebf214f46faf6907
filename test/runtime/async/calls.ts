import type { AsyncContext } from '../../../src/index.js';

/** One call an async step made: its input and attempt, and how the test settles it. */
export interface Call<I, O> {
  readonly value: I;
  readonly context: AsyncContext;
  resolve(result: O): void;
  reject(error: unknown): void;
}

/**
 * A service the test answers by hand: each call waits until the test resolves or rejects
 * it, so the order of answers is the test's to choose.
 */
export class ManualService<I, O> {
  readonly calls: Call<I, O>[] = [];
  readonly fn = (value: I, context: AsyncContext): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      this.calls.push({ value, context, resolve, reject });
    });
  /** The first call made for `value` that has not been answered by the test yet (the latest attempt). */
  callFor(value: I): Call<I, O> {
    const c = [...this.calls].reverse().find((call) => call.value === value);
    if (!c) throw new Error(`no call for ${String(value)}`);
    return c;
  }
}
