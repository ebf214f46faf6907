import type { ValueState } from '../state/types.js';
import { mergeTimeWindows } from './assigners/session.js';
import { timeWindow, windowNamespace, type Window } from './window.js';

/**
 * Called when windows really merge (Flink's `MergingWindowSet.MergeFunction`): `merged`
 * are the key's live windows that `result` replaces (never the new window itself),
 * `stateNs` the namespace the result's state lives under (one of the merged windows'),
 * and `mergedStateNs` the other merged windows' state namespaces, whose state must be
 * folded into `stateNs`.
 */
export type MergeFunction = (result: Window, merged: readonly Window[], stateNs: string, mergedStateNs: readonly string[]) => void;

/** Entries per live window in the persisted array: start, end, state namespace. */
const STRIDE = 3;

/**
 * A key's live merging windows (sessions), each mapped to the window its state lives
 * under (Flink's MergingWindowSet). When a session grows, only the mapping changes: the
 * state stays under the namespace of the window that first held it, so extending a
 * session moves no state. State moves only when two windows that both have state merge.
 * Timers and trigger state stay under the actual (merged) window, as in Flink.
 *
 * The mapping is keyed state (`merging-windows`, checkpointed with the rest): per key a
 * flat array `[start, end, stateNamespace, ...]`. Older checkpoints kept the live windows
 * only (`Window[]`, state under each window's own namespace); {@link load} reads both.
 *
 * Use per key: {@link load}, then {@link addWindow} / {@link retireWindow}, then
 * {@link persist}.
 *
 * @example
 * const set = new MergingWindowSet(backend.getState(valueState('merging-windows')), mergeTimeWindows);
 * set.load();
 * const actual = set.addWindow(timeWindow(ts, ts + gap), (result, merged, stateNs, others) => moveState(others, stateNs));
 * backend.setCurrentNamespace(set.stateNamespaceOf(actual));
 * set.persist();
 */
export class MergingWindowSet {
  private entries: Array<number | string> = [];
  private changed = false;
  /** The built-in time-window merge: the set finds the touching windows itself, without sorting or allocating groups. */
  private readonly timeWindows: boolean;

  constructor(
    private readonly state: ValueState<Array<number | string> | Window[]>,
    private readonly mergeWindows: (windows: readonly Window[]) => Array<{ result: Window; merged: Window[] }>,
  ) {
    this.timeWindows = mergeWindows === mergeTimeWindows;
  }

  /** Reads the current key's windows. */
  load(): void {
    const v = this.state.value();
    this.changed = false;
    if (v === undefined || v.length === 0) {
      this.entries = [];
    } else if (typeof v[0] === 'object') {
      // A checkpoint of the older layout: every window's state under its own namespace.
      this.entries = (v as Window[]).flatMap((w) => [w.start, w.end, windowNamespace(w)]);
      this.changed = true;
    } else {
      this.entries = v as Array<number | string>;
    }
  }

  /** Writes the current key's windows back, if they changed (clears the state when none are left). */
  persist(): void {
    if (!this.changed) return;
    this.changed = false;
    if (this.entries.length === 0) this.state.clear();
    else this.state.update(this.entries);
  }

  get size(): number {
    return this.entries.length / STRIDE;
  }

  /** The state namespace of a live window, or undefined when it is not live (merged away or retired). */
  stateNamespaceOf(w: Window): string | undefined {
    const i = this.indexOf(w.start, w.end);
    return i < 0 ? undefined : (this.entries[i + 2] as string);
  }

  /** Forgets a window (cleaned up, or late); its state is the caller's to clear. */
  retireWindow(w: Window): void {
    const i = this.indexOf(w.start, w.end);
    if (i < 0) return;
    this.entries.splice(i, STRIDE);
    this.changed = true;
  }

  /**
   * Adds a record's window, merging it with the live windows it overlaps or touches
   * (Flink's `MergingWindowSet.addWindow`). Returns the window the record belongs to: the
   * merge result, or the new window itself. `merge` is called for each real merge, before
   * the mapping of the result is used; a window inside a live one, or equal to it, merges
   * nothing.
   */
  addWindow(w: Window, merge: MergeFunction): Window {
    if (this.indexOf(w.start, w.end) >= 0) return w; // the same window again: nothing merges
    return this.timeWindows ? this.addTimeWindow(w, merge) : this.addGeneric(w, merge);
  }

  /**
   * The built-in merge of time windows. Live windows never touch one another (they would
   * have merged), so the new window's group is the new window and the live windows that
   * touch it, and its result their cover: the same as {@link mergeTimeWindows} over all.
   */
  private addTimeWindow(w: Window, merge: MergeFunction): Window {
    const e = this.entries;
    let first = -1;
    let touching = 0;
    let start = w.start;
    let end = w.end;
    for (let i = 0; i < e.length; i += STRIDE) {
      const s = e[i] as number;
      const t = e[i + 1] as number;
      if (s <= w.end && w.start <= t) {
        if (first < 0) first = i;
        touching++;
        if (s < start) start = s;
        if (t > end) end = t;
      }
    }
    if (touching === 0) {
      e.push(w.start, w.end, windowNamespace(w));
      this.changed = true;
      return w;
    }
    // Plain objects, not frozen ones: these are the operator's own, made on every extension.
    if (touching === 1 && start === e[first] && end === e[first + 1]) return { start, end }; // inside a live window
    const result: Window = { start, end };
    const stateNs = e[first + 2] as string;
    const merged: Window[] = [{ start: e[first] as number, end: e[first + 1] as number }];
    const mergedStateNs: string[] = [];
    e[first] = start;
    e[first + 1] = end;
    if (touching > 1) {
      // The others go; the result takes the first one's slot and state.
      let to = first + STRIDE;
      for (let i = first + STRIDE; i < e.length; i += STRIDE) {
        const s = e[i] as number;
        const t = e[i + 1] as number;
        if (s <= w.end && w.start <= t) {
          merged.push({ start: s, end: t });
          mergedStateNs.push(e[i + 2] as string);
        } else {
          e[to] = s;
          e[to + 1] = t;
          e[to + 2] = e[i + 2]!;
          to += STRIDE;
        }
      }
      e.length = to;
    }
    this.changed = true;
    merge(result, merged, stateNs, mergedStateNs);
    return result;
  }

  /** Any merging assigner's `mergeWindows`, step for step as Flink's `addWindow`. */
  private addGeneric(w: Window, merge: MergeFunction): Window {
    const live: Window[] = [];
    for (let i = 0; i < this.entries.length; i += STRIDE) live.push(timeWindow(this.entries[i] as number, this.entries[i + 1] as number));
    const merges = this.mergeWindows([...live, w]);
    let resultWindow = w;
    let mergedNew = false;
    for (const { result, merged } of merges) {
      const others = merged.filter((m) => {
        if (m.start === w.start && m.end === w.end) {
          mergedNew = true;
          resultWindow = result;
          return false;
        }
        return true;
      });
      if (others.length === 0) continue; // the new window and equals of it only
      const stateNs = this.stateNamespaceOf(others[0]!)!;
      const mergedStateNs: string[] = [];
      for (const m of others) {
        const ns = this.stateNamespaceOf(m);
        if (ns === undefined) continue;
        this.retireWindow(m);
        if (ns !== stateNs) mergedStateNs.push(ns);
      }
      this.entries.push(result.start, result.end, stateNs);
      this.changed = true;
      // A live window merged only with a new window inside it keeps its state and timers as they are.
      if (!(others.length === 1 && others[0]!.start === result.start && others[0]!.end === result.end)) merge(result, others, stateNs, mergedStateNs);
    }
    if (!mergedNew) {
      this.entries.push(w.start, w.end, windowNamespace(w));
      this.changed = true;
    }
    return resultWindow;
  }

  private indexOf(start: number, end: number): number {
    const e = this.entries;
    for (let i = 0; i < e.length; i += STRIDE) if (e[i] === start && e[i + 1] === end) return i;
    return -1;
  }
}
