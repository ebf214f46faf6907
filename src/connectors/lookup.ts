/**
 * A table to enrich records from (a key–value store, a database table, an HTTP API),
 * asked for many keys at once: `lookupJoin` gathers the keys its records miss in its
 * cache and asks them in one call (Redis MGET, `WHERE id = ANY($1)`).
 *
 * @example
 * const prices: Lookup<string, number> = {
 *   name: 'prices',
 *   get: async (keys) => keys.map((k) => table.get(k)),
 * };
 */
export interface Lookup<K, V> {
  /** Names the lookup in errors and metrics. */
  readonly name: string;
  /** The value of each key, in the order of `keys`: undefined where there is none. */
  get(keys: readonly K[], signal: AbortSignal): Promise<readonly (V | undefined)[]>;
  /** Keys asked in one call at most (default 500). */
  readonly maxBatch?: number;
  /** Releases the lookup's connection (the job does not call it: the lookup may be shared). */
  close?(): Promise<void>;
}
