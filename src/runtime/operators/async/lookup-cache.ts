import type { Clock } from '../../../time/clock.js';

/** A cached answer: the value, or null for a key the lookup has not got. */
interface Cached<V> {
  readonly value: V | null;
  readonly at: number;
}

/**
 * A lookup join's cache of one subtask: at most `maxEntries` keys (the least recently
 * used go first), each fresh for `ttlMs` on the injected clock. It keeps misses too (as
 * null), so a key the table lacks is not asked again until it expires. With `staleMs`,
 * an expired value is kept that much longer, to stand in while the table is unavailable
 * ({@link getStale}).
 */
export class LookupCache<K, V> {
  private readonly entries = new Map<K, Cached<V>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly staleMs = 0,
  ) {}

  /** The cached answer (a value, or null: known missing), or undefined when `key` is not cached or stale. */
  get(key: K): V | null | undefined {
    const e = this.entries.get(key);
    if (e === undefined || this.clock.now() - e.at >= this.ttlMs) {
      if (e !== undefined && this.clock.now() - e.at >= this.ttlMs + this.staleMs) this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Most recently used last: the Map's order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** An expired value within the stale window (at most `ttl + staleMs` old), with its age in ms; undefined when there is none. */
  getStale(key: K): { readonly value: V; readonly ageMs: number } | undefined {
    const e = this.entries.get(key);
    if (e === undefined || e.value === null) return undefined;
    const ageMs = this.clock.now() - e.at;
    return ageMs < this.ttlMs + this.staleMs ? { value: e.value, ageMs } : undefined;
  }

  set(key: K, value: V | null): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.clock.now() });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  get size(): number {
    return this.entries.size;
  }
}
