/**
 * The columnar fast path of `batch-codec.ts`, for the batches most exchanges carry: plain
 * numbers, or plain objects that all have the same fields in the same order, holding
 * numbers, strings or booleans (`{ user: 17, at: 1700000000000 }`, a window's `{ key,
 * value, start, end }`, a Nexmark bid). Such a batch is written as one float64 column per
 * number field (a batch of numbers: one column), one byte column per boolean field, and
 * per string field the strings' lengths and their UTF-8 as one run, after a header naming
 * the fields; the consumer rebuilds the records with a function compiled once per shape
 * that builds each one as an object literal, so all of them share one hidden class.
 *
 * Detection is exact: every record is checked (prototype `Object.prototype` or null, own
 * enumerable keys equal to the first record's, in order, each value of its column's type)
 * and the first that does not fit sends the whole batch to msgpackr. A class instance does
 * not fit (its prototype may carry a `toJSON`, which msgpackr honours), nor does a field
 * named `__proto__`. What the fast path changes is what msgpackr changes (an object
 * without prototype arrives with `Object.prototype`; a lone surrogate arrives as U+FFFD;
 * a string may be a slice of its column's run), but for -0, which stays -0 where msgpackr
 * gives 0, and a lone surrogate whose pair starts the next string of its column, which
 * stays (the run holds the pair). Pinned by `test/runtime/columnar-codec.test.ts`, which also compares the two
 * paths over seeded random batches.
 *
 * Why: per record, encode + decode in one thread (CPU time, batches of 512), msgpackr
 * against these columns: `{ user, at }` ~65 + ~37 ns against ~11 + ~10; a Nexmark bid
 * ~450 + ~170 ns against ~120 + ~60 (its strings are most of it: a join or an encodeInto
 * per string costs more than msgpackr, one encodeInto per column far less). Through a
 * thread channel (`npm run bench:exchange`, CPU of both threads per event): clicks
 * 0.15 -> 0.05 µs, bids 0.84 -> 0.27 µs, plain numbers unchanged at ~0.04 µs.
 *
 * Layout, in the platform's byte order (both ends live in one process):
 *
 *   | bytes | what                                                                      |
 *   | ----- | ------------------------------------------------------------------------- |
 *   | 0     | 0xc1 (a byte msgpack never uses, so msgpackr output never starts so)      |
 *   | 1     | 0: numbers, 1: records                                                    |
 *   | 2     | numbers: 1 when all are int32 (see {@link compileReader})                 |
 *   | 4–7   | records in the batch (uint32)                                             |
 *   | 8–11  | records: bytes of the descriptor, the signature then one int32 flag per   |
 *   |       | number column (uint32)                                                    |
 *   | 12–15 | records: bytes of the signature (uint32)                                  |
 *   | 16–   | the descriptor, padded to 8 bytes; the float64 columns; per string column |
 *   |       | its UTF-8 byte count (uint32), then per string column the UTF-16 lengths  |
 *   |       | (uint32 each); the boolean columns (a byte each); the strings' UTF-8      |
 *
 * A signature is the column types (`n` number, `s` string, `b` boolean), then the keys as
 * JSON: `nn["user","at"]`.
 */

/** The first byte of a columnar batch: 0xc1 is "never used" in msgpack. */
const MARKER = 0xc1;
const NUMBERS = 0;
const RECORDS = 1;
const HEADER = 16;
/** Records with more fields go to msgpackr (the compiled functions grow with the fields). */
const MAX_FIELDS = 64;
/** Distinct shapes an encoder compiles; later ones go to msgpackr (keys that are data would compile without end). */
const MAX_SHAPES = 64;

/**
 * Writes records `0..n` into the columns; returns n, or the index of the first record
 * that does not fit. `f`, `u` and `b` view the whole arena; `fo`, `uo` and `bo` are
 * where their columns start (in elements), `io` where the number columns' int32 flags
 * go (in `b`); string column j comes out concatenated in `s[j]`.
 */
type Writer = (values: readonly unknown[], n: number, f: Float64Array, u: Uint32Array, b: Uint8Array, fo: number, uo: number, bo: number, io: number, s: string[]) => number;
/** Builds `n` records from the columns (as {@link Writer}; `s[j]` is string column j). */
type Reader = (n: number, f: Float64Array, u: Uint32Array, b: Uint8Array, fo: number, uo: number, bo: number, s: string[]) => unknown[];

/** A shape's columns: types (`n` number, `s` string, `b` boolean) and how many of each. */
class Columns {
  readonly numbers: number;
  readonly strings: number;
  readonly booleans: number;
  constructor(readonly types: string) {
    let nf = 0;
    let ns = 0;
    for (const t of types) if (t === 'n') nf++;
    else if (t === 's') ns++;
    this.numbers = nf;
    this.strings = ns;
    this.booleans = types.length - nf - ns;
  }

  /** Byte offsets for `n` records after a descriptor (signature and int32 flags) of `descriptor` bytes. */
  layout(n: number, descriptor: number): { fo: number; uo: number; bo: number; to: number } {
    const fo = pad8(HEADER + descriptor);
    // after the float64 columns: each string column's byte length, then its UTF-16 lengths
    const uo = fo + 8 * n * this.numbers;
    const bo = uo + 4 * this.strings * (1 + n);
    return { fo, uo, bo, to: bo + n * this.booleans };
  }

  /** Declares `c<j>`, where field j's column starts, from `fo`, `uo` and `bo`. */
  declarations(): string {
    const decls: string[] = [`const uo1 = uo + ${this.strings};`];
    let nf = 0;
    let ns = 0;
    let nb = 0;
    for (let j = 0; j < this.types.length; j++) {
      const t = this.types[j];
      decls.push(`const c${j} = ${t === 'n' ? `fo + ${nf++} * n` : t === 's' ? `uo1 + ${ns++} * n` : `bo + ${nb++} * n`};`);
    }
    return decls.join('\n');
  }
}

interface Shape {
  readonly signature: Uint8Array;
  readonly columns: Columns;
  readonly write: Writer;
}

/** Whether this thread may compile code from strings (not under `--disallow-code-generation-from-strings`). */
const canCompile = (() => {
  try {
    return typeof new Function('return 1') === 'function';
  } catch {
    return false;
  }
})();

const utf8 = new TextEncoder();
// ignoreBOM: a string column that starts with U+FEFF must keep it (by default it is taken for a byte order mark and dropped)
const fromUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const pad8 = (x: number) => (x + 7) & ~7;

/** Whether `bytes` hold a columnar batch (else they are msgpackr's). */
export function isColumnar(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === MARKER;
}

/** Encodes batches that fit the fast path, in one thread. */
export class ColumnarEncoder {
  private arena = new ArrayBuffer(1 << 16);
  private readonly shapes = new Map<string, Shape | null>();

  /**
   * The batch in columns: a view into the encoder's arena, valid until the next call;
   * undefined when some record does not fit (the batch goes to msgpackr).
   */
  encode(values: readonly unknown[]): Uint8Array | undefined {
    const n = values.length;
    if (n === 0) return undefined;
    const first = values[0];
    if (typeof first === 'number') return this.numbers(values, n);
    const shape = this.shapeOf(first);
    if (!shape) return undefined;
    const { columns, signature } = shape;
    const { fo, uo, bo, to } = columns.layout(n, signature.length + columns.numbers);
    this.ensure(to, 0);
    const s: string[] = [];
    const b = new Uint8Array(this.arena, 0, to);
    const f = new Float64Array(this.arena, 0, uo >> 3);
    const u = new Uint32Array(this.arena, 0, bo >> 2);
    if (shape.write(values, n, f, u, b, fo >> 3, uo >> 2, bo, HEADER + signature.length, s) !== n) return undefined;
    b.set(signature, HEADER);
    // each string column as one UTF-8 run: one encodeInto, not one per string
    let end = to;
    for (let j = 0; j < s.length; j++) {
      const joined = s[j]!;
      this.ensure(end + 3 * joined.length, end);
      const { written } = utf8.encodeInto(joined, new Uint8Array(this.arena, end, 3 * joined.length));
      new Uint32Array(this.arena, uo, columns.strings)[j] = written;
      end += written;
    }
    this.header(RECORDS, 0, n, signature.length + columns.numbers, signature.length);
    return new Uint8Array(this.arena, 0, end);
  }

  private numbers(values: readonly unknown[], n: number): Uint8Array | undefined {
    const size = HEADER + 8 * n;
    this.ensure(size, 0);
    const f = new Float64Array(this.arena, HEADER, n);
    let ints = 1;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number') return undefined;
      f[i] = v;
      if (v !== (v | 0) || (v === 0 && 1 / v < 0)) ints = 0;
    }
    this.header(NUMBERS, ints, n, 0, 0);
    return new Uint8Array(this.arena, 0, size);
  }

  private header(layout: number, ints: number, n: number, descriptor: number, signature: number): void {
    const u8 = new Uint8Array(this.arena, 0, HEADER);
    u8[0] = MARKER;
    u8[1] = layout;
    u8[2] = ints;
    const u32 = new Uint32Array(this.arena, 0, HEADER / 4);
    u32[1] = n;
    u32[2] = descriptor;
    u32[3] = signature;
  }

  /** Room for `size` bytes, keeping the first `keep`. */
  private ensure(size: number, keep: number): void {
    if (this.arena.byteLength >= size) return;
    const grown = new ArrayBuffer(Math.max(size, this.arena.byteLength * 2));
    if (keep > 0) new Uint8Array(grown).set(new Uint8Array(this.arena, 0, keep));
    this.arena = grown;
  }

  /** The shape of the first record, if it can have one (cached by signature; null: cannot). */
  private shapeOf(first: unknown): Shape | undefined {
    if (typeof first !== 'object' || first === null) return undefined;
    const proto = Object.getPrototypeOf(first) as unknown;
    if (proto !== Object.prototype && proto !== null) return undefined;
    const keys = Object.keys(first);
    if (keys.length > MAX_FIELDS) return undefined;
    let types = '';
    for (const k of keys) {
      const t = typeof (first as Record<string, unknown>)[k];
      if (t === 'number') types += 'n';
      else if (t === 'string') types += 's';
      else if (t === 'boolean') types += 'b';
      else return undefined;
    }
    const signature = types + JSON.stringify(keys);
    let shape = this.shapes.get(signature);
    if (shape === undefined) {
      if (this.shapes.size >= MAX_SHAPES) return undefined;
      // `__proto__: x` in an object literal sets the prototype: such records go to msgpackr
      shape = keys.includes('__proto__') || !canCompile ? null : { signature: utf8.encode(signature), columns: new Columns(types), write: compileWriter(keys, types) };
      this.shapes.set(signature, shape);
    }
    return shape ?? undefined;
  }
}

interface ReaderOf {
  readonly columns: Columns;
  readonly read: Reader;
}

/** Decodes what a {@link ColumnarEncoder} made, in another thread. */
export class ColumnarDecoder {
  /** By signature, then by int32 flags. */
  private readonly readers = new Map<string, Map<string, ReaderOf>>();
  private lastDescriptor: Uint8Array = new Uint8Array(0);
  private last: ReaderOf | undefined;

  decode<T>(bytes: Uint8Array): T[] {
    // typed array views need aligned offsets: a batch from a thread channel has them
    if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
    const { buffer, byteOffset } = bytes;
    const header = new Uint32Array(buffer, byteOffset, HEADER / 4);
    const n = header[1]!;
    if (bytes[1] === NUMBERS) {
      const f = new Float64Array(buffer, byteOffset + HEADER, n);
      // a loop into new Array(n): Array.from on a typed array is ~15× slower
      const out = new Array<number>(n);
      if (bytes[2] === 1) for (let i = 0; i < n; i++) out[i] = f[i]! | 0;
      else for (let i = 0; i < n; i++) out[i] = f[i]!;
      return out as T[];
    }
    const descriptor = bytes.subarray(HEADER, HEADER + header[2]!);
    const { columns, read } = this.readerOf(descriptor, header[3]!);
    const { fo, uo, bo, to } = columns.layout(n, descriptor.length);
    const u = new Uint32Array(buffer, byteOffset, bo >> 2);
    const s: string[] = [];
    for (let j = 0, at = to; j < columns.strings; j++) {
      const length = u[(uo >> 2) + j]!;
      s.push(fromUtf8.decode(bytes.subarray(at, at + length)));
      at += length;
    }
    return read(n, new Float64Array(buffer, byteOffset, uo >> 3), u, bytes, fo >> 3, uo >> 2, bo, s) as T[];
  }

  /** The reader for a descriptor: the last one's again, or one compiled for it. */
  private readerOf(descriptor: Uint8Array, signatureLength: number): ReaderOf {
    const last = this.lastDescriptor;
    if (this.last && last.length === descriptor.length) {
      let same = true;
      for (let i = 0; i < last.length && same; i++) same = last[i] === descriptor[i];
      if (same) return this.last;
    }
    const signature = fromUtf8.decode(descriptor.subarray(0, signatureLength));
    const ints = descriptor.subarray(signatureLength);
    const flags = String.fromCharCode(...ints);
    let byFlags = this.readers.get(signature);
    if (!byFlags) this.readers.set(signature, (byFlags = new Map()));
    let reader = byFlags.get(flags);
    if (!reader) {
      const open = signature.indexOf('[');
      const columns = new Columns(signature.slice(0, open));
      reader = { columns, read: compileReader(JSON.parse(signature.slice(open)) as string[], columns, ints) };
      byFlags.set(flags, reader);
    }
    this.lastDescriptor = descriptor.slice();
    this.last = reader;
    return reader;
  }
}

function compileWriter(keys: string[], types: string): Writer {
  const columns = new Columns(types);
  let nf = 0;
  let ns = 0;
  const fields = keys
    .map((k, j) => {
      const x = `x${j}`;
      const c = `c${j}`;
      const t = types[j];
      let store: string;
      if (t === 'n') {
        // int32 flag: the column holds only int32 values (-0 is not one)
        const int = `i${nf++}`;
        store = `f[${c} + i] = ${x}; if (${int} === 1 && (${x} !== (${x} | 0) || (${x} === 0 && 1 / ${x} < 0))) ${int} = 0;`;
      } else if (t === 's') store = `u[${c} + i] = ${x}.length; s${ns++} += ${x};`;
      else store = `b[${c} + i] = ${x} ? 1 : 0;`;
      return `const ${x} = v[${JSON.stringify(k)}]; if (typeof ${x} !== '${t === 'n' ? 'number' : t === 's' ? 'string' : 'boolean'}') return i; ${store}`;
    })
    .join('\n');
  const repeat = (count: number, line: (j: number) => string) => Array.from({ length: count }, (_, j) => line(j)).join(' ');
  // The prototype: reading __proto__ costs next to nothing where getPrototypeOf costs
  // ~10 ns; it is undefined for an object without prototype (and for one with an own
  // __proto__ field, which the key check below refuses anyway). The keys: own enumerable
  // ones, in order, equal to the shape's (for-in also walks the prototype, which is
  // Object.prototype or null here). A string column is concatenated as it goes (~4 ns a
  // string, where a join costs ~18), flattened once by encodeInto.
  const body = `
    ${columns.declarations()}
    ${repeat(columns.strings, (j) => `let s${j} = '';`)}
    ${repeat(columns.numbers, (j) => `let i${j} = 1;`)}
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'object' || v === null) return i;
      const p = v.__proto__;
      if (p !== objectPrototype && (p !== undefined || getPrototypeOf(v) !== null)) return i;
      let j = 0;
      for (const k in v) {
        if (j === ${keys.length} || k !== keys[j]) return i;
        j++;
      }
      if (j !== ${keys.length}) return i;
      ${fields}
    }
    ${repeat(columns.strings, (j) => `s[${j}] = s${j};`)}
    ${repeat(columns.numbers, (j) => `b[io + ${j}] = i${j};`)}
    return n;`;
  const make = new Function('getPrototypeOf', 'objectPrototype', 'keys', `return function write(values, n, f, u, b, fo, uo, bo, io, s) {${body}\n};`) as (
    getPrototypeOf: (o: object) => unknown,
    objectPrototype: object,
    keys: readonly string[],
  ) => Writer;
  return make(Object.getPrototypeOf, Object.prototype, [...keys]);
}

/**
 * The reader of a shape whose number columns have these int32 flags: an int32 column is
 * read back as `| 0`, so that the field holds a small integer as msgpackr would give it
 * (a float64 element read as a heap number would turn the field's representation, shared
 * with the producer's records of the same shape, to double for every one of them).
 */
function compileReader(keys: string[], columns: Columns, ints: Uint8Array): Reader {
  const positions: string[] = [];
  let nf = 0;
  let ns = 0;
  const fields = keys.map((k, j) => {
    const c = `c${j}`;
    const t = columns.types[j];
    let value: string;
    if (t === 'n') value = ints[nf++] === 1 ? `f[${c} + i] | 0` : `f[${c} + i]`;
    else if (t === 'b') value = `b[${c} + i] === 1`;
    else {
      // arguments run left to right: from the old position to the new one
      const p = `p${ns}`;
      positions.push(`const s${ns} = s[${ns}]; let ${p} = 0;`);
      value = `s${ns++}.substring(${p}, ${p} += u[${c} + i])`;
    }
    return `${JSON.stringify(k)}: ${value}`;
  });
  return new Function(
    'n',
    'f',
    'u',
    'b',
    'fo',
    'uo',
    'bo',
    's',
    `${columns.declarations()}
    ${positions.join('\n')}
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { ${fields.join(', ')} };
    return out;`,
  ) as Reader;
}
