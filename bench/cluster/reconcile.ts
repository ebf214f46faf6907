/**
 * The reference and the check: the window counts of the generated records computed as a
 * batch (a Map), and an engine's output compared with them. Every output record is one of
 * - right: the expected count of an expected window, the first time;
 * - doubled: a window already output right, again (exactly-once broken);
 * - wrong: a window not expected, or another count than expected.
 * An expected window never output right is missing. A correct run is 0 / 0 / 0.
 */
import { WINDOW_MS, type BenchEvent } from './input.js';
import type { WindowCount } from '../jobs/cluster-window-count.js';

/** `key|windowStart` → count. */
export type WindowCounts = Map<string, number>;

export function windowId(key: string, windowStart: number): string {
  return `${key}|${windowStart}`;
}

/** The count per key and 1 s tumbling window of `events`, as a batch. */
export function batchCounts(events: Iterable<BenchEvent>): WindowCounts {
  const counts: WindowCounts = new Map();
  for (const e of events) {
    const id = windowId(e.key, e.ts - (((e.ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export interface Reconciled {
  readonly expected: number;
  readonly received: number;
  readonly right: number;
  readonly missing: number;
  readonly doubled: number;
  readonly wrong: number;
  /** A few wrong records, for the report. */
  readonly examples: string[];
}

/** Checks output records against the expected counts, one record at a time (the benchmark reads the output as it comes). */
export class Reconciler {
  private readonly seen = new Set<string>();
  private received = 0;
  private doubled = 0;
  private wrong = 0;
  private readonly examples: string[] = [];

  constructor(private readonly expected: WindowCounts) {}

  /** Takes one output record; true when it was an expected window's first right count. */
  add(out: WindowCount): boolean {
    this.received++;
    const id = windowId(out.key, out.windowStart);
    const want = this.expected.get(id);
    if (want === undefined || want !== out.count) {
      this.wrong++;
      if (this.examples.length < 5) this.examples.push(`${id} count ${out.count} (expected ${want ?? 'no such window'})`);
      return false;
    }
    if (this.seen.has(id)) {
      this.doubled++;
      return false;
    }
    this.seen.add(id);
    return true;
  }

  /** Every expected window has been output right. */
  get complete(): boolean {
    return this.seen.size === this.expected.size;
  }

  result(): Reconciled {
    return {
      expected: this.expected.size,
      received: this.received,
      right: this.seen.size,
      missing: this.expected.size - this.seen.size,
      doubled: this.doubled,
      wrong: this.wrong,
      examples: [...this.examples],
    };
  }
}

/** `reconcile: 51,000 windows expected, 51,000 received: missing 0, doubled 0, wrong 0` (and a few wrong ones, if any). */
export function formatReconciled(r: Reconciled): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const ok = r.missing === 0 && r.doubled === 0 && r.wrong === 0 ? 'ok' : 'WRONG OUTPUT';
  const lines = [`reconcile: ${n(r.expected)} windows expected, ${n(r.received)} received: missing ${n(r.missing)}, doubled ${n(r.doubled)}, wrong ${n(r.wrong)} (${ok})`];
  for (const e of r.examples) lines.push(`  wrong: ${e}`);
  return lines.join('\n');
}
