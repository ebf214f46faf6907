/**
 * Keys to key groups, and key groups to subtasks.
 *
 * A key group is the unit in which keyed state moves when parallelism changes. Every key
 * belongs to exactly one of `maxParallelism` key groups for the life of a job (the mapping
 * below is pinned by `key-groups.test.ts` and must never change, or restored state would
 * land on the wrong subtask). Each subtask owns one contiguous range of key groups,
 * assigned exactly as Apache Flink's `KeyGroupRangeAssignment` does.
 *
 * The key hash is MurmurHash3 (x86, 32-bit, seed 0) over the UTF-8 bytes of the key's
 * canonical form: a one-character type tag followed by the text of the value.
 *
 * | key              | canonical form     |
 * |------------------|--------------------|
 * | string `"abc"`   | `"sabc"`           |
 * | number `42`      | `"n42"`  (`"n" + String(n)`, so `-0` is `"n0"`) |
 * | bigint `42n`     | `"b42"`  (`"b" + n.toString()`) |
 *
 * So `1`, `"1"` and `1n` are different keys with different hashes. Lone UTF-16 surrogates
 * encode as U+FFFD, as `TextEncoder` does. The implementation streams bytes straight from
 * char codes (and from digits, for safe integers) without allocating.
 */
import { SluiceError } from '../errors/index.js';
import type { Key } from './types.js';

/** Max parallelism (number of key groups) when a job does not set one, as in Flink. @example keyGroupOf('a') < DEFAULT_MAX_PARALLELISM */
export const DEFAULT_MAX_PARALLELISM = 128;

/** The largest max parallelism allowed (Flink's `UPPER_BOUND_MAX_PARALLELISM`, 2^15). */
export const MAX_MAX_PARALLELISM = 32_768;

/** A contiguous, inclusive range of key groups `[from, to]`. */
export interface KeyGroupRange {
  readonly from: number;
  readonly to: number;
}

// ---- streaming MurmurHash3 x86_32 over bytes (module state: no allocation per call) ----

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
let h1 = 0;
let k1 = 0;
let shift = 0;
let length = 0;
/** Digits of an integer, least significant first (scratch, reused). */
const digits = new Uint8Array(24);

function begin(): void {
  h1 = 0;
  k1 = 0;
  shift = 0;
  length = 0;
}

function feed(byte: number): void {
  k1 |= byte << shift;
  length++;
  shift += 8;
  if (shift === 32) {
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    k1 = 0;
    shift = 0;
  }
}

function finish(): number {
  if (shift !== 0) {
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  let h = h1 ^ length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Feeds the UTF-8 encoding of `s` (lone surrogates as U+FFFD, like TextEncoder). */
function feedString(s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      feed(c);
    } else if (c < 0x800) {
      feed(0xc0 | (c >> 6));
      feed(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        feed(0xf0 | (c >> 18));
        feed(0x80 | ((c >> 12) & 0x3f));
        feed(0x80 | ((c >> 6) & 0x3f));
        feed(0x80 | (c & 0x3f));
      } else {
        feed(0xef);
        feed(0xbf);
        feed(0xbd);
      }
    } else {
      feed(0xe0 | (c >> 12));
      feed(0x80 | ((c >> 6) & 0x3f));
      feed(0x80 | (c & 0x3f));
    }
  }
}

/** Feeds the decimal text of a safe integer, as `String(n)` writes it. */
function feedSafeInteger(n: number): void {
  if (n < 0) {
    feed(0x2d); // '-'
    n = -n;
  }
  let count = 0;
  do {
    const d = n % 10; // exact for safe integers
    digits[count++] = d;
    n = (n - d) / 10;
  } while (n !== 0);
  while (count > 0) feed(0x30 + digits[--count]!);
}

/**
 * MurmurHash3 (x86, 32-bit, seed 0, unsigned) of the UTF-8 bytes of any string; the hash
 * under {@link hashKey}.
 *
 * @example
 * murmur3Utf8('hello') === 0x248bfa47
 */
export function murmur3Utf8(text: string): number {
  begin();
  feedString(text);
  return finish();
}

/**
 * The 32-bit (unsigned) hash of a key: MurmurHash3 over the UTF-8 bytes of its canonical
 * form (see the module comment). Stable across processes, machines and releases.
 *
 * @example
 * hashKey('user-1') === hashKey('user-' + 1) // equal keys, equal hashes
 * hashKey(1) !== hashKey('1') && hashKey(1) !== hashKey(1n)
 */
export function hashKey(key: Key): number {
  begin();
  if (typeof key === 'string') {
    feed(0x73); // 's'
    feedString(key);
  } else if (typeof key === 'number') {
    feed(0x6e); // 'n'
    if (Number.isSafeInteger(key)) {
      feedSafeInteger(key);
    } else if (Number.isFinite(key)) {
      feedString(String(key));
    } else {
      throw invalidKey(key);
    }
  } else if (typeof key === 'bigint') {
    feed(0x62); // 'b'
    feedString(key.toString());
  } else {
    throw invalidKey(key);
  }
  return finish();
}

function invalidKey(key: unknown): SluiceError {
  return new SluiceError('KEY_INVALID', `cannot hash key ${String(key)} (${typeof key}) to a key group`, {
    detail: 'a key must be a string, a finite number or a bigint',
  });
}

/**
 * The key group of a key, in `[0, maxParallelism)`.
 *
 * @example
 * keyGroupOf('user-1') === keyGroupOf('user-1', 128) // always the same group
 */
export function keyGroupOf(key: Key, maxParallelism: number = DEFAULT_MAX_PARALLELISM): number {
  return hashKey(key) % maxParallelism;
}

/**
 * The key groups subtask `subtask` (0-based) of `parallelism` owns: Flink's
 * `computeKeyGroupRangeForOperatorIndex`, an inclusive range.
 *
 * @example
 * keyGroupRange(0, 2, 128) // { from: 0, to: 63 }
 * keyGroupRange(1, 2, 128) // { from: 64, to: 127 }
 */
export function keyGroupRange(subtask: number, parallelism: number, maxParallelism: number = DEFAULT_MAX_PARALLELISM): KeyGroupRange {
  checkParallelism(parallelism, maxParallelism);
  if (!Number.isInteger(subtask) || subtask < 0 || subtask >= parallelism) {
    throw new SluiceError('INVALID_ARGUMENT', `subtask index ${subtask} is outside [0, ${parallelism})`);
  }
  const from = Math.floor((subtask * maxParallelism + parallelism - 1) / parallelism);
  const to = Math.floor(((subtask + 1) * maxParallelism - 1) / parallelism);
  return Object.freeze({ from, to });
}

/**
 * The subtask that owns a key group: Flink's `computeOperatorIndexForKeyGroup`,
 * `keyGroup * parallelism / maxParallelism` rounded down.
 *
 * @example
 * subtaskForKeyGroup(64, 2, 128) === 1
 */
export function subtaskForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number = DEFAULT_MAX_PARALLELISM): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/**
 * The subtask that owns a key: `subtaskForKeyGroup(keyGroupOf(key))`. This is what a keyed
 * exchange uses to route a record.
 *
 * @example
 * subtaskForKey('user-1', 4) // in [0, 4)
 */
export function subtaskForKey(key: Key, parallelism: number, maxParallelism: number = DEFAULT_MAX_PARALLELISM): number {
  return Math.floor(((hashKey(key) % maxParallelism) * parallelism) / maxParallelism);
}

/**
 * Throws INVALID_ARGUMENT unless `1 <= parallelism <= maxParallelism <= 32768` (integers).
 *
 * @example
 * checkParallelism(4, 128); // ok
 */
export function checkParallelism(parallelism: number, maxParallelism: number = DEFAULT_MAX_PARALLELISM): void {
  checkMaxParallelism(maxParallelism);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > maxParallelism) {
    throw new SluiceError('INVALID_ARGUMENT', `parallelism ${parallelism} must be an integer in [1, ${maxParallelism}] (the max parallelism)`, {
      hint: 'Lower the parallelism, or raise the max parallelism before the job first takes state (it cannot change afterwards).',
    });
  }
}

/**
 * Throws INVALID_ARGUMENT unless `maxParallelism` is an integer in `[1, 32768]`.
 *
 * @example
 * checkMaxParallelism(128); // ok
 */
export function checkMaxParallelism(maxParallelism: number): void {
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
    throw new SluiceError('INVALID_ARGUMENT', `max parallelism ${maxParallelism} must be an integer in [1, ${MAX_MAX_PARALLELISM}]`);
  }
}
