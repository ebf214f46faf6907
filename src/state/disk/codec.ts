/**
 * Byte layouts of the on-disk backend: record keys and record values. Internal to
 * `state/disk/`.
 *
 * Record key (compared bytewise by LMDB, so everything of a key group is one range):
 *
 * ```
 * [key group: u16 BE][state id: u16 BE][key][namespace][map key (map state only)]
 * ```
 *
 * Each part starts with a type tag, so `1`, `"1"` and `1n` differ, and the key and
 * namespace parts are self-delimiting, so "all records of (state, key)" and "all map
 * entries of (state, key, namespace)" are prefix ranges:
 *
 * | tag  | part                               |
 * |------|------------------------------------|
 * | 0x01 | namespace undefined (plain state)  |
 * | 0x02 | string: UTF-8, 0x00/0x01 escaped as 0x01 0x01 / 0x01 0x02, then 0x00 |
 * | 0x03 | number: float64 BE (-0 stored as 0, as `Map` treats them) |
 * | 0x04 | bigint: decimal digits, then 0x00  |
 * | 0x05–0x08 | map key true, false, null, undefined |
 * | 0x09 | map key of another type: msgpack to the end (compared by value, not identity) |
 *
 * Records whose first byte is 0xFF are metadata (key groups stop at 0x7FFF): the state
 * registry, `0xFF 0xFF 's' name` -> `{ id, kind }`.
 *
 * Record value: `[flag u8][expiresAt f64 BE, if flag is 1][msgpack of the value]`; the
 * expiry is readable without decoding the value (the TTL sweep reads only that).
 *
 * Keys travel in JavaScript as latin1 strings of these bytes (`Buffer.from(id, 'latin1')`
 * gives the bytes back): cheap to concatenate from precomputed parts, usable as `Map` keys.
 */
import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import { SluiceError } from '../../errors/index.js';
import type { Key, Namespace } from '../types.js';

const T_NS_NONE = 0x01;
const T_STRING = 0x02;
const T_NUMBER = 0x03;
const T_BIGINT = 0x04;
const T_TRUE = 0x05;
const T_FALSE = 0x06;
const T_NULL = 0x07;
const T_UNDEFINED = 0x08;
const T_PACKED = 0x09;

/** LMDB's largest key with 4 KiB pages. */
export const MAX_KEY_BYTES = 1978;

/** The first byte of metadata records. */
export const META_BYTE = 0xff;

/**
 * The value codec: msgpack that keeps Map, Set, Date, bigint, undefined and typed arrays
 * (records inline, so every value decodes on its own; copies buffers, so nothing aliases
 * LMDB's reused read buffer).
 */
export function packr(): Packr {
  return (valuePackr ??= new (require('msgpackr') as typeof import('msgpackr')).Packr({
    structuredClone: true,
    useRecords: true,
    mapsAsObjects: false,
    moreTypes: true,
    useBigIntExtension: true,
    copyBuffers: true,
  }));
}
// msgpackr is loaded on first use: importing Sluice (and every job that keeps its state in
// memory) then skips its load time (see bench/startup.ts).
const require = createRequire(import.meta.url);
let valuePackr: Packr | undefined;

const scratch = Buffer.allocUnsafe(8);

function escapeUtf8(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let needs = false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 2) needs = true;
  if (!needs) return bytes.toString('latin1', 0, bytes.length);
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0) out.push(1, 1);
    else if (b === 1) out.push(1, 2);
    else out.push(b);
  }
  return Buffer.from(out).toString('latin1', 0, out.length);
}

function encodeNumber(n: number): string {
  scratch.writeDoubleBE(n === 0 ? 0 : n, 0);
  return String.fromCharCode(T_NUMBER) + scratch.toString('latin1', 0, 8);
}

/** The key part for a state key. */
export function encodeKey(key: Key): string {
  switch (typeof key) {
    case 'string':
      return String.fromCharCode(T_STRING) + escapeUtf8(key) + '\0';
    case 'number':
      return encodeNumber(key);
    case 'bigint':
      return String.fromCharCode(T_BIGINT) + key.toString() + '\0';
    default:
      throw new SluiceError('KEY_INVALID', `cannot store state under key ${String(key)} (${typeof key})`, {
        detail: 'a key must be a string, a finite number or a bigint',
      });
  }
}

/** The namespace part. */
export function encodeNamespace(ns: Namespace | undefined): string {
  if (ns === undefined) return String.fromCharCode(T_NS_NONE);
  return typeof ns === 'number' ? encodeNumber(ns) : String.fromCharCode(T_STRING) + escapeUtf8(ns) + '\0';
}

/** The map-key part (last in the record key). */
export function encodeMapKey(mk: unknown): string {
  switch (typeof mk) {
    case 'string':
    case 'number':
    case 'bigint':
      return encodeKey(mk);
    case 'boolean':
      return String.fromCharCode(mk ? T_TRUE : T_FALSE);
    case 'undefined':
      return String.fromCharCode(T_UNDEFINED);
    default: {
      if (mk === null) return String.fromCharCode(T_NULL);
      const b = packr().pack(mk);
      return String.fromCharCode(T_PACKED) + b.toString('latin1', 0, b.length);
    }
  }
}

/** The two bytes of a u16, as a latin1 string. */
export function u16(n: number): string {
  return String.fromCharCode(n >> 8, n & 0xff);
}

/** Reads one tagged part at `at`; returns the value and the offset after it. */
function decodePart(b: Buffer, at: number): [unknown, number] {
  const tag = b[at]!;
  switch (tag) {
    case T_NS_NONE:
      return [undefined, at + 1];
    case T_NUMBER:
      return [b.readDoubleBE(at + 1), at + 9];
    case T_STRING: {
      let end = at + 1;
      let escaped = false;
      while (b[end] !== 0) {
        if (b[end] === 1) {
          escaped = true;
          end++;
        }
        end++;
      }
      if (!escaped) return [b.toString('utf8', at + 1, end), end + 1];
      const raw: number[] = [];
      for (let i = at + 1; i < end; i++) raw.push(b[i] === 1 ? b[++i]! - 1 : b[i]!);
      return [Buffer.from(raw).toString('utf8'), end + 1];
    }
    case T_BIGINT: {
      const end = b.indexOf(0, at + 1);
      return [BigInt(b.toString('latin1', at + 1, end)), end + 1];
    }
    case T_TRUE:
      return [true, at + 1];
    case T_FALSE:
      return [false, at + 1];
    case T_NULL:
      return [null, at + 1];
    case T_UNDEFINED:
      return [undefined, at + 1];
    case T_PACKED:
      return [packr().unpack(b.subarray(at + 1)), b.length];
    default:
      throw new SluiceError('STATE_IO_FAILED', `unreadable state record key: tag ${tag} at byte ${at}`);
  }
}

/** The parts of a data record key. */
export interface DecodedKey {
  keyGroup: number;
  stateId: number;
  key: Key;
  namespace: Namespace | undefined;
  /** Offset of the namespace part (the key part is bytes 4 to here). */
  nsAt: number;
  /** Offset of the map-key part (the record key's length when there is none). */
  mapKeyAt: number;
}

export function decodeRecordKey(b: Buffer): DecodedKey {
  const [key, nsAt] = decodePart(b, 4);
  const [namespace, mapKeyAt] = decodePart(b, nsAt);
  return { keyGroup: b.readUInt16BE(0), stateId: b.readUInt16BE(2), key: key as Key, namespace: namespace as Namespace | undefined, nsAt, mapKeyAt };
}

export function decodeMapKey(b: Buffer, at: number): unknown {
  return decodePart(b, at)[0];
}

/** Encodes a record value. `expiresAt` Infinity: no expiry. */
export function encodeValue(value: unknown, expiresAt: number): Buffer {
  const body = packr().pack(value);
  const fin = expiresAt !== Infinity;
  const out = Buffer.allocUnsafe(body.length + (fin ? 9 : 1));
  out[0] = fin ? 1 : 0;
  if (fin) out.writeDoubleBE(expiresAt, 1);
  body.copy(out, fin ? 9 : 1);
  return out;
}

/** The expiry of an encoded record value (Infinity: none). */
export function expiryOf(b: Uint8Array): number {
  return b[0] === 1 ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).readDoubleBE(1) : Infinity;
}

/** Decodes a record value's body. */
export function decodeValue(b: Uint8Array): unknown {
  return packr().unpack(b.subarray(b[0] === 1 ? 9 : 1));
}

/** Throws KEY_INVALID when a record key is longer than LMDB takes. */
export function checkKeyLength(id: string): void {
  if (id.length > MAX_KEY_BYTES) {
    throw new SluiceError('KEY_INVALID', `a state key is ${id.length} bytes once encoded; the on-disk backend takes at most ${MAX_KEY_BYTES}`, {
      detail: 'key, namespace and map key together must fit in one LMDB key',
      hint: 'Use shorter keys (a hash or an id rather than a whole document).',
    });
  }
}
