import type { Lookup } from '../../../connectors/lookup.js';
import { Histogram, LATENCY_BOUNDS_SECONDS } from '../../../observe/histogram.js';

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

/**
 * Gathers the keys asked in one turn of the event loop (an async step starts a whole
 * batch's calls at once) and asks the lookup for them in calls of at most `maxBatch`
 * keys, each key once.
 */
export class KeyBatcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  /** Keys asked and not answered yet: a key is asked once however many records want it. */
  private readonly asked = new Map<K, Promise<V | undefined>>();
  private scheduled = false;
  /** Calls made to the lookup, and keys asked in them. */
  calls = 0;
  keys = 0;
  /** How long the lookup's calls took, in seconds, weighted by their keys (read by the metrics). */
  readonly latency = new Histogram(LATENCY_BOUNDS_SECONDS);

  constructor(private readonly lookup: Lookup<K, V>) {}

  load(key: K): Promise<V | undefined> {
    const inFlight = this.asked.get(key);
    if (inFlight) return inFlight;
    const answer = new Promise<V | undefined>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
    this.asked.set(key, answer);
    const forget = () => void this.asked.delete(key);
    answer.then(forget, forget);
    return answer;
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = new Map();
    const keys = [...all.keys()];
    const max = this.lookup.maxBatch ?? 500;
    for (let i = 0; i < keys.length; i += max) this.ask(keys.slice(i, i + max), all);
  }

  private ask(keys: K[], waiting: Map<K, Waiter<V>[]>): void {
    this.calls++;
    this.keys += keys.length;
    let answer: Promise<readonly (V | undefined)[]>;
    // A figure for the metrics, not an input of the job: wall time, as the task timings are.
    const t0 = performance.now();
    const took = () => this.latency.observe((performance.now() - t0) / 1000, keys.length);
    try {
      answer = this.lookup.get(keys, new AbortController().signal);
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (values) => {
        took();
        keys.forEach((k, i) => waiting.get(k)!.forEach((w) => w.resolve(values[i])));
      },
      (error: unknown) => {
        took();
        keys.forEach((k) => waiting.get(k)!.forEach((w) => w.reject(error)));
      },
    );
  }
}
