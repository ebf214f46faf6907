import type { AsyncContext } from '../../../core/async-function.js';

/**
 * What one attempt's call is told. Its `signal` is made only when read: an
 * AbortController costs about 6 µs, more than the rest of a call's handling, and most
 * functions never look at it.
 */
export class AttemptContext implements AsyncContext {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;

  constructor(
    readonly attempt: number,
    readonly timestamp: number | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the attempt (its timeout, the step closing): the signal, now or when first read. */
  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}
