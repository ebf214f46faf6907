import type { Key, Namespace } from '../state/types.js';
import { MinHeap } from './min-heap.js';

/** The namespace of a plain (non-window) timer. */
const PLAIN = 0 as const;
/**
 * A key's timers at one timestamp: a plain timer, one string namespace on its own (a
 * window's timer: the common case, no Set allocated per timer), or a Set of several.
 */
type Entry = typeof PLAIN | string | Set<Namespace | undefined>;

/** A timer as snapshots and the harness see it. */
export interface TimerEntry {
  readonly key: Key;
  readonly timestamp: number;
  readonly namespace?: Namespace | undefined;
}

/**
 * Timers of one time domain, per key (and namespace), deduplicated: registering the same
 * (key, namespace, timestamp) twice keeps one timer. `advanceTo` fires them in timestamp
 * order, and within a timestamp in registration order; timers registered while firing
 * that are already due fire in the same call. See `timer-queue.test.ts`.
 *
 * Layout: one bucket (Map of key -> namespaces) per distinct timestamp, and a heap of the
 * distinct timestamps. Many keys usually share a timestamp (window ends), so this stays
 * small and registering an existing timestamp is two Map look-ups.
 */
export class TimerQueue {
  private readonly buckets = new Map<number, Map<Key, Entry>>();
  private readonly heap = new MinHeap();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The earliest pending timestamp, if any. */
  peek(): number | undefined {
    for (;;) {
      const t = this.heap.peek();
      if (t === undefined || this.buckets.has(t)) return t;
      this.heap.pop(); // stale: its bucket emptied by deletions
    }
  }

  register(key: Key, timestamp: number, namespace?: Namespace): void {
    let bucket = this.buckets.get(timestamp);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(timestamp, bucket);
      this.heap.push(timestamp);
    }
    const entry = bucket.get(key);
    if (entry === undefined) {
      bucket.set(key, namespace === undefined ? PLAIN : typeof namespace === 'string' ? namespace : new Set([namespace]));
      this.count++;
    } else if (entry === PLAIN) {
      if (namespace !== undefined) {
        bucket.set(key, new Set<Namespace | undefined>([undefined, namespace]));
        this.count++;
      }
    } else if (typeof entry === 'string') {
      if (namespace !== entry) {
        bucket.set(key, new Set<Namespace | undefined>([entry, namespace]));
        this.count++;
      }
    } else if (!entry.has(namespace)) {
      entry.add(namespace);
      this.count++;
    }
  }

  delete(key: Key, timestamp: number, namespace?: Namespace): void {
    const bucket = this.buckets.get(timestamp);
    const entry = bucket?.get(key);
    if (bucket === undefined || entry === undefined) return;
    if (entry === PLAIN || typeof entry === 'string') {
      if (namespace !== (entry === PLAIN ? undefined : entry)) return;
      bucket.delete(key);
      this.count--;
    } else if (entry.delete(namespace)) {
      this.count--;
      if (entry.size === 0) bucket.delete(key);
    }
    if (bucket.size === 0) this.buckets.delete(timestamp);
  }

  /**
   * Fires, in order, every timer with timestamp <= `time`. `fire` may register or delete
   * timers; due ones registered meanwhile fire too.
   */
  advanceTo(time: number, fire: (key: Key, timestamp: number, namespace: Namespace | undefined) => void): void {
    for (;;) {
      const t = this.peek();
      if (t === undefined || t > time) return;
      this.heap.pop();
      const bucket = this.buckets.get(t)!;
      this.buckets.delete(t);
      for (const key of bucket.keys()) {
        const entry = bucket.get(key)!;
        if (entry === PLAIN) {
          this.count--;
          fire(key, t, undefined);
        } else if (typeof entry === 'string') {
          this.count--;
          fire(key, t, entry);
        } else {
          for (const namespace of entry) {
            this.count--;
            fire(key, t, namespace);
          }
        }
      }
    }
  }

  /** All pending timers, in timestamp order (for snapshots and the harness). */
  entries(): TimerEntry[] {
    const out: TimerEntry[] = [];
    for (const t of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const [key, entry] of this.buckets.get(t)!) {
        if (entry === PLAIN) out.push({ key, timestamp: t });
        else if (typeof entry === 'string') out.push({ key, timestamp: t, namespace: entry });
        else for (const namespace of entry) out.push({ key, timestamp: t, namespace: namespace });
      }
    }
    return out;
  }

  /** Timestamps pending for one key and namespace. */
  timestampsOf(key: Key, namespace?: Namespace): number[] {
    const out: number[] = [];
    for (const [t, bucket] of this.buckets) {
      const entry = bucket.get(key);
      if (entry === undefined) continue;
      if (entry === PLAIN ? namespace === undefined : typeof entry === 'string' ? entry === namespace : entry.has(namespace)) out.push(t);
    }
    return out.sort((a, b) => a - b);
  }
}
