/**
 * How the values of a batch cross to another thread: the producing thread encodes them to
 * bytes and the consuming thread decodes them. A batch of plain numbers, or of plain
 * objects of one flat shape (the same keys in the same order, holding numbers, strings or
 * booleans), goes as columns (`columnar-codec.ts`: ~10 ns a `{ user, at }` record each
 * way, ~4× cheaper than msgpackr for Nexmark bids); any other batch goes through msgpackr
 * with its record extension (an object shape is written once per batch, then each record
 * as its field values). Measured alone on this machine for Nexmark bids, msgpackr encodes
 * ~2.3M records/s and decodes ~6M/s, where V8's serialiser (what `postMessage` uses) takes
 * ~1.5M/s to serialise and ~1.3M/s to deserialise. `thread-channel.ts` has the end-to-end
 * figures.
 *
 * What survives the crossing (pinned by `test/runtime/thread-channel.test.ts` and, for
 * the columns, `columnar-codec.test.ts`, which also compares them with msgpackr):
 * - plain objects and arrays, nested to any reasonable depth; strings; numbers including
 *   NaN and ±Infinity; booleans; null; undefined, also as a field value: a field set to
 *   undefined arrives set to undefined, a missing field arrives missing;
 * - bigints of any size, Dates (invalid ones too), Maps (any keys), Sets, RegExps, Errors
 *   (name, message), typed arrays and Buffers (copied out of the message).
 *
 * What changes on the way:
 * - a class instance arrives as a plain object of its own enumerable fields: its prototype,
 *   hence its methods and getters, is lost (an object with `toJSON()` arrives as what that
 *   returns); an object without prototype arrives as a plain object;
 * - -0 arrives as 0, except in a batch that crosses as columns, where it stays -0; a lone
 *   UTF-16 surrogate in a string arrives as U+FFFD; an array hole arrives as undefined;
 *   symbol-keyed and non-enumerable fields are dropped; a field named `__proto__` arrives
 *   named `__proto_` (msgpackr's guard against prototype pollution);
 * - an object referred to twice arrives as two copies; a decoded string may be a slice of
 *   one string holding its batch's strings, which it keeps alive (msgpackr's are too).
 *
 * Refused, with {@link SluiceError} `RECORD_NOT_TRANSFERABLE` naming the record and the
 * field: functions, symbols, and cyclic (or absurdly deep) records. Structured clone would
 * keep cycles and sharing, but costs 2–3× more and throws on functions just the same.
 */
import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import { SluiceError, describeRecord } from '../../errors/index.js';
import { ColumnarDecoder, ColumnarEncoder, isColumnar } from './columnar-codec.js';

// msgpackr is loaded by the first codec (a channel between threads): a job that runs in
// one thread skips its load time (see bench/startup.ts).
const require = createRequire(import.meta.url);
const msgpackr = () => require('msgpackr') as typeof import('msgpackr');

/** Marks the msgpackr failure raised for a function, to tell it from msgpackr's own. */
class FunctionField extends Error {}

function newPackr(): Packr {
  return new (msgpackr().Packr)({
    moreTypes: true, // Sets, typed arrays, RegExps, Errors and big bigints keep their type
    writeFunction: () => {
      throw new FunctionField('a function');
    },
  });
}

/** Encodes batches of values to bytes, in one thread. */
export class BatchEncoder {
  private packr = newPackr();
  private readonly columnar = new ColumnarEncoder();

  /**
   * The values as bytes: a view into the encoder's arena, valid until the next call
   * (copy it out before encoding again). Throws `RECORD_NOT_TRANSFERABLE`.
   * @param where names the channel in the error message.
   */
  encode(values: readonly unknown[], where: string): Uint8Array {
    const columns = this.columnar.encode(values);
    if (columns !== undefined) return columns;
    try {
      return this.packr.pack(values);
    } catch (e) {
      // msgpackr may be left mid-record: start the next batch on a fresh one.
      this.packr = newPackr();
      throw untransferable(values, where, e);
    }
  }

  /**
   * Why `value` alone cannot cross, as the `RECORD_NOT_TRANSFERABLE` error that names the
   * field; undefined when it can. For the slow path after `encode` threw: a channel output
   * then sorts the batch's records (see `ChannelOutput`), so it costs nothing otherwise.
   */
  refusal(value: unknown, where: string): SluiceError | undefined {
    try {
      (this.probe ??= newPackr()).pack([value]);
      return undefined;
    } catch (e) {
      this.probe = undefined;
      const what = findUntransferable(value) ?? reasonOf(e);
      return new SluiceError('RECORD_NOT_TRANSFERABLE', `${where}: a record cannot cross to another thread: it holds ${what}`, { detail: describeRecord(value), cause: e });
    }
  }
  private probe: Packr | undefined;
}

/** Decodes what a {@link BatchEncoder} made, in another thread. */
export class BatchDecoder {
  // copyBuffers: a decoded Buffer must not be a view into the message, which is reused.
  private readonly unpackr = new (msgpackr().Unpackr)({ moreTypes: true, copyBuffers: true });
  private readonly columnar = new ColumnarDecoder();

  decode<T>(bytes: Uint8Array): T[] {
    if (isColumnar(bytes)) return this.columnar.decode<T>(bytes);
    return this.unpackr.unpack(bytes) as T[];
  }
}

/** The error for a batch that failed to encode: which record, which field, what it held. */
function untransferable(values: readonly unknown[], where: string, cause: unknown): SluiceError {
  // Encoding failed somewhere: find the first record that fails alone (only on this path).
  const probe = newPackr();
  let index = -1;
  for (let i = 0; i < values.length && index < 0; i++) {
    try {
      probe.pack(values[i]);
    } catch {
      index = i;
    }
  }
  const record = index >= 0 ? values[index] : values;
  const found = findUntransferable(record);
  const what = found ?? reasonOf(cause);
  const which = index >= 0 ? `record ${index} of a batch of ${values.length}` : `a batch of ${values.length}`;
  return new SluiceError('RECORD_NOT_TRANSFERABLE', `${where}: ${which} cannot cross to another thread: it holds ${what}`, {
    detail: describeRecord(record),
    cause,
  });
}

/** What msgpackr's failure says about a value that {@link findUntransferable} found nothing wrong in. */
function reasonOf(cause: unknown): string {
  return cause instanceof RangeError ? 'nesting too deep (or a cycle)' : `a value msgpackr refused (${cause instanceof Error ? cause.message : String(cause)})`;
}

/**
 * Where in `value` the first function, symbol or cycle is, as "a function at .a.b[2]";
 * undefined when there is none (the walk follows what msgpackr writes: own enumerable
 * fields, array items, Map keys and values, Set items).
 */
export function findUntransferable(value: unknown): string | undefined {
  const path: string[] = [];
  const open = new Set<object>();
  const at = () => (path.length === 0 ? 'the top' : path.join(''));
  const walk = (v: unknown): string | undefined => {
    if (typeof v === 'function') return `a function at ${at()}`;
    if (typeof v === 'symbol') return `a symbol at ${at()}`;
    if (v === null || typeof v !== 'object') return undefined;
    if (open.has(v)) return `a cycle at ${at()} (it refers back to an enclosing object)`;
    if (path.length > 1000) return `nesting deeper than 1000 at ${at()}`;
    open.add(v);
    try {
      const step = (label: string, child: unknown) => {
        path.push(label);
        const r = walk(child);
        path.pop();
        return r;
      };
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const r = step(`[${i}]`, v[i]);
          if (r) return r;
        }
      } else if (v instanceof Map) {
        let i = 0;
        for (const [k, x] of v) {
          const r = step(`.<key ${i}>`, k) ?? step(`.get(${typeof k === 'string' ? JSON.stringify(k) : `<key ${i}>`})`, x);
          if (r) return r;
          i++;
        }
      } else if (v instanceof Set) {
        let i = 0;
        for (const x of v) {
          const r = step(`.<item ${i++}>`, x);
          if (r) return r;
        }
      } else if (!ArrayBuffer.isView(v) && !(v instanceof Date) && !(v instanceof RegExp) && !(v instanceof Error)) {
        for (const key of Object.keys(v)) {
          const r = step(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`, (v as Record<string, unknown>)[key]);
          if (r) return r;
        }
      }
      return undefined;
    } finally {
      open.delete(v);
    }
  };
  return walk(value);
}
