/**
 * One side of an interval join for one key: its records sorted by timestamp (records with
 * equal timestamps in arrival order), so that a record of the other side finds its
 * partners by binary search and reads only the records inside its interval, and records
 * leave from the front as the watermark passes them. Kept as one keyed value state.
 *
 * @example
 * const buffer: TimeBuffer<string> = { ts: [], values: [] };
 * insertByTime(buffer, 20, 'b'); insertByTime(buffer, 10, 'a'); // ts [10, 20]
 * firstAtOrAfter(buffer.ts, 15); // 1
 * dropBefore(buffer, (t) => t + 5 <= 16); // drops 10: buffer.ts [20]
 */
export interface TimeBuffer<V> {
  ts: number[];
  values: V[];
}

/**
 * Adds a record in timestamp order (after records of the same timestamp). Returns true
 * when it became the first record, whose cleanup time is then the buffer's earliest.
 */
export function insertByTime<V>(buffer: TimeBuffer<V>, ts: number, value: V): boolean {
  const times = buffer.ts;
  const n = times.length;
  if (n === 0 || times[n - 1]! <= ts) {
    // In order: the common case.
    times.push(ts);
    buffer.values.push(value);
    return n === 0;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= ts) lo = mid + 1;
    else hi = mid;
  }
  times.splice(lo, 0, ts);
  buffer.values.splice(lo, 0, value);
  return lo === 0;
}

/** The index of the first timestamp `>= t` in ascending `times` (its length when none). */
export function firstAtOrAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Drops the leading records for which `expired(ts)` holds (a prefix, since `expired` must
 * hold for every timestamp below one it holds for). Returns how many went.
 */
export function dropBefore<V>(buffer: TimeBuffer<V>, expired: (ts: number) => boolean): number {
  const times = buffer.ts;
  let n = 0;
  while (n < times.length && expired(times[n]!)) n++;
  if (n > 0) {
    times.splice(0, n);
    buffer.values.splice(0, n);
  }
  return n;
}
