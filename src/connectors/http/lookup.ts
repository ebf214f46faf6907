import { SluiceError } from '../../errors/index.js';
import type { Lookup } from '../lookup.js';

/** A service that answers many keys in one request (POST): what to send, and how its JSON answer gives each key's value. */
export interface HttpBatchRequest<V> {
  /** The URL the keys are posted to. */
  url: string;
  /** The JSON body for `keys` (default `{ "keys": [...] }`). */
  body?: (keys: readonly string[]) => unknown;
  /** The value of each key, in the order of `keys` (undefined where there is none), from the answer's JSON. */
  values: (answer: unknown, keys: readonly string[]) => readonly (V | undefined)[];
}

/** Options of {@link httpLookup}: one GET per key (`url`), or one POST per batch (`batch`). */
export interface HttpLookupOptions<V> {
  /** Names the lookup in errors and metrics (default 'http'). */
  name?: string;
  /** The URL of one key, read with GET: a JSON answer is its value, 404 a miss. */
  url?: (key: string) => string;
  /** Keys asked in one request instead (a service with a batch endpoint). */
  batch?: HttpBatchRequest<V>;
  /** Headers sent with every request (an API key, say). */
  headers?: Record<string, string>;
  /** Turns an answer's JSON into the value (default: the JSON as it is). Per-key GETs only. */
  value?: (json: unknown) => V;
  /** Keys per POST of a `batch` endpoint (default 100). */
  maxBatch?: number;
}

/**
 * A {@link Lookup} over an HTTP JSON API for `lookupJoin`: a batch of keys is one POST to
 * a batch endpoint; or each key is one GET, asked side by side (the join's `capacity`
 * bounds how many are out), so that a key the service fails on fails only its records. The join's timeout aborts the requests (its signal). A 404
 * is a miss; another status or an answer that is not JSON is LOOKUP_FAILED, which the
 * step's `retry` policy asks again.
 *
 * @example
 * const users = httpLookup<User>({ url: (id) => `http://users.internal/users/${encodeURIComponent(id)}` });
 * lookupJoin(clicks, users, { uid: 'users', key: (c) => c.user, join: (c, u) => ({ ...c, country: u?.country }), onMiss: 'null', timeout: '500ms' });
 */
export function httpLookup<V = unknown>(options: HttpLookupOptions<V>): Lookup<string, V> {
  const name = options.name ?? 'http';
  if ((options.url === undefined) === (options.batch === undefined)) {
    throw new SluiceError('INVALID_ARGUMENT', `httpLookup '${name}': give either url (one GET per key) or batch (one POST per batch of keys)`);
  }
  const value = options.value ?? ((json: unknown) => json as V);
  const failed = (url: string, why: string, cause?: unknown) => new SluiceError('LOOKUP_FAILED', `httpLookup '${name}': ${url} ${why}`, { cause });

  /** The JSON answer of a request; undefined for a 404. */
  const ask = async (url: string, init: RequestInit, signal: AbortSignal): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers: { accept: 'application/json', ...options.headers, ...init.headers }, signal });
    } catch (e) {
      if (signal.aborted) throw e; // the step's timeout: it says so itself
      throw failed(url, `could not be reached: ${(e as Error).message}`, e);
    }
    const text = await res.text();
    if (res.status === 404) return undefined;
    if (!res.ok) throw failed(url, `answered ${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw failed(url, `answered something that is not JSON: ${text.slice(0, 200)}`, e);
    }
  };

  return {
    name,
    // One GET per key is one call per key: a key the service fails on fails only its own records.
    maxBatch: options.batch ? (options.maxBatch ?? 100) : 1,
    async get(keys, signal) {
      const batch = options.batch;
      if (batch) {
        const answer = await ask(batch.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch.body ? batch.body(keys) : { keys }) }, signal);
        const values = answer === undefined ? keys.map(() => undefined) : batch.values(answer, keys);
        if (values.length !== keys.length) throw failed(batch.url, `gave ${values.length} value(s) for ${keys.length} key(s): batch.values must give one per key, in order`);
        return values;
      }
      const json = await ask(options.url!(keys[0]!), { method: 'GET' }, signal);
      return [json === undefined ? undefined : value(json)];
    },
  };
}
