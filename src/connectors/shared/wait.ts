import type { Clock } from '../../time/clock.js';

/** Why a {@link wait} ended. */
export type WaitOutcome = 'elapsed' | 'aborted' | 'woken';

/**
 * A handle through which something else can end a {@link wait} early, for example an
 * HTTP request that has just queued records for a reader waiting in `poll()`.
 */
export class Wakeup {
  private waiters: Array<() => void> = [];
  /** Ends every wait currently registered on this handle. */
  wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
  /** @internal */
  register(fn: () => void): () => void {
    this.waiters.push(fn);
    return () => {
      this.waiters = this.waiters.filter((w) => w !== fn);
    };
  }
}

/**
 * Waits `ms` of processing time on `clock`, ending early when `signal` aborts or
 * `wakeup` is woken. Goes through the clock only (never `setTimeout`), so a
 * `ManualClock` drives it in tests; the scheduled callback is cancelled when the wait
 * ends early, so early ends leave nothing pending on the clock.
 */
export function wait(clock: Clock, ms: number, signal?: AbortSignal, wakeup?: Wakeup): Promise<WaitOutcome> {
  if (signal?.aborted) return Promise.resolve('aborted');
  return new Promise<WaitOutcome>((resolve) => {
    let settled = false;
    let cancelTimer: () => void = () => {};
    let unregisterWake: () => void = () => {};
    const finish = (outcome: WaitOutcome): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      unregisterWake();
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => finish('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (wakeup) unregisterWake = wakeup.register(() => finish('woken'));
    if (ms <= 0) {
      // clock.sleep(0) yields a turn on every clock (a ManualClock included).
      void clock.sleep(0).then(() => finish('elapsed'));
    } else {
      cancelTimer = clock.schedule(clock.now() + ms, () => finish('elapsed'));
    }
  });
}
