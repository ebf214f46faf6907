/**
 * A window: the interval `[start, end)` of (event or processing) time. The global window
 * is `[-Infinity, +Infinity)`. A window's last timestamp is `end - 1`: an event-time
 * window is complete when the watermark reaches it.
 */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** The global window (count windows and custom triggers live in it). */
export const GLOBAL_WINDOW: Window = Object.freeze({ start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY });

/** The last timestamp that belongs to the window. */
export function maxTimestamp(w: Window): number {
  return w.end - 1;
}

/**
 * Makes a window; frozen so that windows can be shared safely.
 *
 * @example
 * const start = windowStartFor(ts, 3_600_000, 0);
 * timeWindow(start, start + 3_600_000); // the hour holding ts
 */
export function timeWindow(start: number, end: number): Window {
  return Object.freeze({ start, end });
}

/** The namespace under which a window's state and timers are kept. */
export function windowNamespace(w: Window): string {
  return `${w.start},${w.end}`;
}

/** The window a namespace names (inverse of {@link windowNamespace}). */
export function windowOfNamespace(ns: string | number): Window {
  const [s, e] = String(ns).split(',');
  return timeWindow(Number(s), Number(e));
}

/** Whether two windows overlap or touch (Flink's rule for merging session windows). */
export function windowsTouch(a: Window, b: Window): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/**
 * The start of the window of length `size` (aligned to the epoch plus `offset`) that holds `timestamp`.
 *
 * @example
 * windowStartFor(90_000, 60_000, 0); // 60000
 * windowStartFor(90_000, 60_000, 45_000); // 45000
 */
export function windowStartFor(timestamp: number, size: number, offset: number): number {
  const r = (timestamp - offset) % size;
  return timestamp - (r < 0 ? r + size : r);
}
