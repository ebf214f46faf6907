import { SluiceError } from '../errors/index.js';

/** A length of time: milliseconds as a number, or a string such as `'250ms'`, `'5s'`, `'1m'`, `'2h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Converts a {@link Duration} to milliseconds, rejecting negative, non-finite and
 * malformed values at once (so a bad job definition fails when it is built).
 *
 * @example
 * toMillis('1.5s') === 1500; toMillis(20) === 20;
 */
export function toMillis(d: Duration, what = 'duration'): number {
  let ms: number;
  if (typeof d === 'number') {
    ms = d;
  } else if (typeof d === 'string') {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(d);
    if (!m) {
      throw new SluiceError('INVALID_DURATION', `${what} ${JSON.stringify(d)} is not a duration`);
    }
    ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  } else {
    throw new SluiceError('INVALID_DURATION', `${what} must be a number of milliseconds or a string, got ${typeof d}`);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new SluiceError('INVALID_DURATION', `${what} must be a finite, non-negative length of time, got ${String(d)}`);
  }
  return ms;
}

/** Like {@link toMillis}, but zero is refused too (sizes, intervals). */
export function toPositiveMillis(d: Duration, what = 'duration'): number {
  const ms = toMillis(d, what);
  if (ms === 0) throw new SluiceError('INVALID_DURATION', `${what} must be longer than zero`);
  return ms;
}
