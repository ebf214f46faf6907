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

// ---- MurmurHash3 x86_32 over a reused byte buffer (no allocation per call) ----
//
// A key is first written as UTF-8 into `buf` (grown if a key is longer, kept afterwards),
// then hashed in a tight loop over local variables: much faster in V8 than feeding bytes
// one by one through module-level state.

let buf = new Uint8Array(256);

/** Makes room for `n` bytes. */
function reserve(n: number): void {
  if (n > buf.length) buf = new Uint8Array(Math.max(n, buf.length * 2));
}

/** Writes the UTF-8 of `s` at `at` (lone surrogates as U+FFFD, like TextEncoder); returns the end. */
function writeUtf8(s: string, at: number): number {
  const n = s.length;
  reserve(at + 3 * n); // a UTF-16 unit never takes more than 3 bytes (a pair takes 4 for 2)
  const b = buf;
  let p = at;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        b[p++] = 0xf0 | (c >> 18);
        b[p++] = 0x80 | ((c >> 12) & 0x3f);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        b[p++] = 0xef;
        b[p++] = 0xbf;
        b[p++] = 0xbd;
      }
    } else {
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** 10^0 .. 10^15: the digit count of a safe integer (< 2^53 < 10^16) by comparison, without dividing. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Writes the decimal text of a safe integer at `at`, as `String(n)` would; returns the end. */
function writeSafeInteger(n: number, at: number): number {
  let p = at;
  if (n < 0) {
    buf[p++] = 0x2d; // '-'
    n = -n;
  }
  let digits = 1;
  while (digits < 16 && n >= POW10[digits]!) digits++;
  const end = p + digits;
  for (let q = end - 1; q >= p; q--) {
    // floor(n / 10) is exact for safe integers (the rounding error stays under 0.1), and
    // much faster than `n % 10`, which V8 compiles to a call to fmod.
    const next = Math.floor(n / 10);
    buf[q] = 0x30 + (n - next * 10);
    n = next;
  }
  return end;
}

/** MurmurHash3 x86_32, seed 0, of `buf[0, len)`, unsigned. */
function murmur3(len: number): number {
  const b = buf;
  const blocks = len & ~3;
  let h = 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = b[blocks]!;
    if (tail > 1) k |= b[blocks + 1]! << 8;
    if (tail > 2) k |= b[blocks + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 (x86, 32-bit, seed 0, unsigned) of the UTF-8 bytes of any string; the hash
 * under {@link hashKey}.
 *
 * @example
 * murmur3Utf8('hello') === 0x248bfa47
 */
export function murmur3Utf8(text: string): number {
  return murmur3(writeUtf8(text, 0));
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
  let len: number;
  if (typeof key === 'string') {
    buf[0] = 0x73; // 's'
    len = writeUtf8(key, 1);
  } else if (typeof key === 'number') {
    buf[0] = 0x6e; // 'n'
    if (Number.isSafeInteger(key)) len = writeSafeInteger(key, 1);
    else if (Number.isFinite(key)) len = writeUtf8(String(key), 1);
    else throw invalidKey(key);
  } else if (typeof key === 'bigint') {
    buf[0] = 0x62; // 'b'
    len = writeUtf8(key.toString(), 1);
  } else {
    throw invalidKey(key);
  }
  return murmur3(len);
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
