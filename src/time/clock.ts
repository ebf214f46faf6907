/**
 * Processing time is an input. The engine never calls `Date.now()` or `setTimeout`
 * directly: it asks a Clock, so that tests drive time with a {@link ManualClock}.
 */
export interface Clock {
  /** Current processing time in epoch milliseconds. */
  now(): number;
  /** Runs `callback` once `now() >= at`. Returns a function that cancels it. */
  schedule(at: number, callback: () => void): () => void;
  /** Resolves once `now() >= now() + ms` (0 yields to other tasks). */
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  schedule(at: number, callback: () => void): () => void {
    const t = setTimeout(callback, Math.max(0, at - Date.now()));
    return () => clearTimeout(t);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0) setImmediate(resolve);
      else setTimeout(resolve, ms);
    });
  }
}

interface Scheduled {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to: `advance(ms)` or `set(t)` runs every callback
 * that has come due, in time order (then in the order they were scheduled).
 *
 * @example
 * const clock = new ManualClock(1000);
 * let fired = false;
 * clock.schedule(1500, () => { fired = true; });
 * clock.advance(500); // fired === true
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: Scheduled[] = [];

  constructor(start = 0) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  schedule(at: number, callback: () => void): () => void {
    const entry: Scheduled = { at, seq: this.seq++, callback };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => this.schedule(this.current + ms, resolve));
  }
  /** Moves time forward by `ms`, running due callbacks in order. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }
  /** Moves time to `t` (never backwards), running due callbacks in order. */
  set(t: number): void {
    if (t < this.current) throw new RangeError(`ManualClock cannot move backwards (${t} < ${this.current})`);
    for (;;) {
      const due = this.pending.filter((p) => p.at <= t);
      if (due.length === 0) break;
      due.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = due[0]!;
      this.pending = this.pending.filter((p) => p !== next);
      this.current = Math.max(this.current, next.at);
      next.callback();
    }
    this.current = t;
  }
  /** Number of callbacks waiting. */
  get scheduledCount(): number {
    return this.pending.length;
  }
}
