/**
 * Naive batch windows: what each window of each key holds, computed from the whole input
 * at once with loops that are easy to check by eye. The property tests compare the
 * streaming window operators against these (`windows.property.test.ts`).
 *
 * A pane is one (key, window) with its records. Count and global windows have the
 * window `[-Infinity, +Infinity)`.
 */
export type RefKey = string | number | null;

export interface Pane<T> {
  readonly key: RefKey;
  readonly start: number;
  readonly end: number;
  readonly records: T[];
}

interface Timed {
  readonly ts: number;
}

function groupByKey<T>(events: readonly T[], keyOf: (e: T) => RefKey): Map<RefKey, T[]> {
  const m = new Map<RefKey, T[]>();
  for (const e of events) {
    const k = keyOf(e);
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  }
  return m;
}

/** Every window `[start, start + size)` with `start ≡ offset (mod slide)` that holds `ts`, found by walking the grid. */
export function alignedWindowsOf(ts: number, size: number, slide: number, offset: number): Array<{ start: number; end: number }> {
  // The greatest grid start <= ts, then every earlier grid start whose window still holds ts.
  let start = Math.floor((ts - offset) / slide) * slide + offset;
  const windows: Array<{ start: number; end: number }> = [];
  for (; start + size > ts; start -= slide) windows.push({ start, end: start + size });
  return windows;
}

/** Tumbling and sliding (tumbling is sliding with slide = size): each record goes to every window that holds it. */
export function alignedReference<T extends Timed>(events: readonly T[], keyOf: (e: T) => RefKey, size: number, slide: number, offset = 0): Pane<T>[] {
  const panes = new Map<string, Pane<T>>();
  for (const e of events) {
    const key = keyOf(e);
    for (const w of alignedWindowsOf(e.ts, size, slide, offset)) {
      const id = JSON.stringify([key, w.start]);
      let p = panes.get(id);
      if (!p) panes.set(id, (p = { key, start: w.start, end: w.end, records: [] }));
      p.records.push(e);
    }
  }
  return [...panes.values()];
}

/**
 * Sessions per key: each record opens `[ts, ts + gap(record))`; windows that overlap or
 * touch merge (Flink: `[a, b)` and `[c, d)` merge iff `c <= b` and `a <= d`). Sorted by
 * start, a record joins the current session when it starts at or before the session's end.
 */
export function sessionReference<T extends Timed>(events: readonly T[], keyOf: (e: T) => RefKey, gapOf: (e: T) => number): Pane<T>[] {
  const out: Pane<T>[] = [];
  for (const [key, list] of groupByKey(events, keyOf)) {
    const sorted = [...list].sort((a, b) => a.ts - b.ts);
    let cur: { start: number; end: number; records: T[] } | undefined;
    for (const e of sorted) {
      const end = e.ts + gapOf(e);
      if (cur && e.ts <= cur.end) {
        cur.end = Math.max(cur.end, end);
        cur.records.push(e);
      } else {
        if (cur) out.push({ key, ...cur });
        cur = { start: e.ts, end, records: [e] };
      }
    }
    if (cur) out.push({ key, ...cur });
  }
  return out;
}

/**
 * Count windows per key, in arrival order. Tumbling (no slide): every `size` records form
 * a window; an unfinished last group never fires. Sliding: after every `slide` records,
 * a window of the last `size` records (fewer at the start).
 */
export function countReference<T>(events: readonly T[], keyOf: (e: T) => RefKey, size: number, slide?: number): Pane<T>[] {
  const out: Pane<T>[] = [];
  const step = slide ?? size;
  for (const [key, list] of groupByKey(events, keyOf)) {
    for (let n = step; n <= list.length; n += step) {
      out.push({ key, start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY, records: list.slice(Math.max(0, n - size), n) });
    }
  }
  return out;
}

/**
 * The global window with a count trigger of `n`, per key in arrival order: every `n`
 * records it fires with all records so far, or (purging) with the last `n` only.
 */
export function globalCountReference<T>(events: readonly T[], keyOf: (e: T) => RefKey, n: number, purging: boolean): Pane<T>[] {
  const out: Pane<T>[] = [];
  for (const [key, list] of groupByKey(events, keyOf)) {
    for (let m = n; m <= list.length; m += n) {
      out.push({ key, start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY, records: list.slice(purging ? m - n : 0, m) });
    }
  }
  return out;
}

// ---- Late data: aligned windows under explicit watermarks ----

/** An input step: a record, or a watermark (non-decreasing). */
export type Step<T> = { readonly record: T } | { readonly watermark: number };

/** One firing of a window as the reference expects it. */
export interface Emission<T> {
  readonly records: T[];
  readonly isUpdate: boolean;
  readonly timing: 'on-time' | 'late';
}

export interface LateReference<T> {
  /** Records too late for every window they belong to, in arrival order. */
  readonly late: T[];
  /** Per pane id (`JSON.stringify([key, start])`), its firings in order. */
  readonly firings: Map<string, { key: RefKey; start: number; end: number; emissions: Emission<T>[] }>;
}

/**
 * Aligned event-time windows with the default trigger and allowed lateness `lateness`,
 * replayed step by step (Flink's semantics, written out):
 * - a record goes to each of its windows whose `end - 1 + lateness > watermark`; if the
 *   watermark has already reached the window's `end - 1`, the window fires at once;
 * - a record accepted by none of its windows is late; a record that belongs to no window
 *   at all (a gap of sliding windows shorter than their slide) is late when
 *   `ts + lateness <= watermark`, as Flink's `isElementLate`;
 * - when the watermark reaches a window's `end - 1`, the window fires if it has records;
 * - the end of the input is a watermark of +Infinity.
 * The first firing of a window is `on-time` and not an update; later ones are `late` updates.
 */
export function lateAlignedReference<T extends Timed>(
  steps: readonly Step<T>[],
  keyOf: (e: T) => RefKey,
  size: number,
  slide: number,
  offset: number,
  lateness: number,
): LateReference<T> {
  const late: T[] = [];
  const panes = new Map<string, { key: RefKey; start: number; end: number; records: T[]; emissions: Emission<T>[]; firedOnTime: boolean }>();
  let wm = Number.NEGATIVE_INFINITY;
  const fire = (p: { records: T[]; emissions: Emission<T>[] }) => {
    const isUpdate = p.emissions.length > 0;
    p.emissions.push({ records: [...p.records], isUpdate, timing: isUpdate ? 'late' : 'on-time' });
  };
  const advance = (to: number) => {
    for (const p of panes.values()) {
      if (!p.firedOnTime && p.end - 1 > wm && p.end - 1 <= to) {
        p.firedOnTime = true;
        if (p.records.length > 0) fire(p);
      }
    }
    wm = to;
  };
  for (const s of steps) {
    if ('watermark' in s) {
      if (s.watermark > wm) advance(s.watermark);
      continue;
    }
    const e = s.record;
    const key = keyOf(e);
    const windows = alignedWindowsOf(e.ts, size, slide, offset);
    if (windows.length === 0) {
      if (e.ts + lateness <= wm) late.push(e);
      continue;
    }
    let accepted = false;
    for (const w of windows) {
      if (w.end - 1 + lateness <= wm) continue;
      accepted = true;
      const id = JSON.stringify([key, w.start]);
      let p = panes.get(id);
      if (!p) panes.set(id, (p = { key, start: w.start, end: w.end, records: [], emissions: [], firedOnTime: w.end - 1 <= wm }));
      p.records.push(e);
      if (w.end - 1 <= wm) fire(p);
    }
    if (!accepted) late.push(e);
  }
  advance(Number.POSITIVE_INFINITY);
  const firings: LateReference<T>['firings'] = new Map();
  for (const [id, p] of panes) if (p.emissions.length > 0) firings.set(id, { key: p.key, start: p.start, end: p.end, emissions: p.emissions });
  return { late, firings };
}
