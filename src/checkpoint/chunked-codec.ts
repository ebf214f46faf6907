import { deserialize, serialize } from 'node:v8';

/** Arrays longer than this are written in pieces, with a yield to the event loop between. */
const CHUNK = 20_000;
const MARK = '__sluiceChunks';
/** Typed arrays of at least this many bytes are written as raw blocks, not through V8's serializer. */
const BLOCK_BYTES = 64 * 1024;
const BLOCK = '__sluiceBlock';
/** The first part of files written since checkpoint format 2: `{ [HEAD]: { pieces, blocks }, value }`. */
const HEAD = '__sluiceParts';

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The typed arrays written as raw blocks, by their type tag. */
const BLOCK_TYPES = {
  Float64Array,
  Float32Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type BlockType = keyof typeof BLOCK_TYPES;
type Block = InstanceType<(typeof BLOCK_TYPES)[BlockType]>;

/** The tag of a typed array written as a raw block, or undefined (Buffers and subclasses go through V8's serializer). */
function blockType(value: unknown): BlockType | undefined {
  if (!ArrayBuffer.isView(value) || value.byteLength < BLOCK_BYTES) return undefined;
  const tag = (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] as BlockType;
  return tag in BLOCK_TYPES && Object.getPrototypeOf(value) === BLOCK_TYPES[tag].prototype ? tag : undefined;
}

/**
 * Encodes a snapshot without holding the event loop for long, as the parts of a file to
 * write in order. Large arrays (a million state entries) are cut into pieces serialized
 * one at a time (V8's structured-clone format), yielding between them, so the pipeline
 * keeps running while a checkpoint is written. Large typed arrays (the numeric columns
 * of keyed state, `state/snapshot-format.ts`) are not serialized at all: their own bytes
 * are parts, written as they are (V8's serializer and a concatenation would copy 16 MB
 * twice for a million keys). So the value must not change until the parts are written:
 * snapshots are private copies.
 *
 * Layout: a count, the parts' lengths, then the parts: a head (the value with large arrays
 * and typed arrays replaced by markers, the number of pieces and the blocks' types), the
 * pieces, the blocks. Blocks are in the host's byte order (little-endian on every
 * platform Node supports). Files of checkpoint format 1 have no blocks and a bare value
 * as the head; {@link decodeChunked} reads both.
 */
export async function encodeChunked(value: unknown): Promise<Uint8Array[]> {
  const pieces: unknown[][] = [];
  const blocks: Block[] = [];
  const skeleton = cut(value, pieces, blocks);
  const head = { [HEAD]: { pieces: pieces.length, blocks: blocks.map((b) => blockType(b)!) }, value: skeleton };
  const parts: Uint8Array[] = [serialize(head)];
  for (const piece of pieces) {
    parts.push(serialize(piece));
    await yieldNow();
  }
  for (const b of blocks) parts.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  const header = Buffer.alloc(4 + parts.length * 4);
  header.writeUInt32LE(parts.length, 0);
  parts.forEach((p, i) => header.writeUInt32LE(p.byteLength, 4 + i * 4));
  return [header, ...parts];
}

/** Decodes what {@link encodeChunked} wrote (and format 1 files), yielding between pieces. */
export async function decodeChunked(bytes: Buffer): Promise<unknown> {
  const count = bytes.readUInt32LE(0);
  let at = 4 + count * 4;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = bytes.readUInt32LE(4 + i * 4);
    parts.push(bytes.subarray(at, at + len));
    at += len;
  }
  const first = deserialize(parts[0]!) as unknown;
  const head = isPlainObject(first) ? (first[HEAD] as { pieces: number; blocks: BlockType[] } | undefined) : undefined;
  const skeleton = head === undefined ? first : (first as { value: unknown }).value;
  const pieceCount = head === undefined ? count - 1 : head.pieces;
  const pieces: unknown[][] = [];
  for (let i = 1; i <= pieceCount; i++) {
    pieces.push(deserialize(parts[i]!) as unknown[]);
    await yieldNow();
  }
  // A block gets its own aligned buffer: one copy, and the file can be freed.
  const blocks = (head?.blocks ?? []).map((type, i) => {
    const raw = parts[1 + pieceCount + i]!;
    const Type = BLOCK_TYPES[type];
    const block = new Type(raw.byteLength / Type.BYTES_PER_ELEMENT);
    new Uint8Array(block.buffer).set(raw);
    return block;
  });
  return join(skeleton, pieces, blocks);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;

/** Replaces large arrays (in plain objects and arrays) by markers naming their pieces, and large typed arrays by markers naming their blocks. */
function cut(value: unknown, pieces: unknown[][], blocks: Block[]): unknown {
  if (Array.isArray(value)) {
    if (value.length > CHUNK) {
      const first = pieces.length;
      for (let i = 0; i < value.length; i += CHUNK) pieces.push(value.slice(i, i + CHUNK));
      return { [MARK]: [first, pieces.length] };
    }
    return value.map((v) => cut(v, pieces, blocks));
  }
  if (blockType(value) !== undefined) {
    blocks.push(value as Block);
    return { [BLOCK]: blocks.length - 1 };
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cut(v, pieces, blocks);
    return out;
  }
  return value;
}

function join(value: unknown, pieces: unknown[][], blocks: Block[]): unknown {
  if (Array.isArray(value)) return value.map((v) => join(v, pieces, blocks));
  // V8's deserializer makes (small) typed arrays views into the whole file's buffer where
  // the alignment allows: copy them out, so that the file can be freed and a typed array
  // sent to a worker thread carries its own bytes, not the file's.
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && value.byteLength !== value.buffer.byteLength) {
    return (value as unknown as Uint8Array).slice();
  }
  if (isPlainObject(value)) {
    const range = value[MARK] as [number, number] | undefined;
    if (range) return pieces.slice(range[0], range[1]).flat();
    const block = value[BLOCK] as number | undefined;
    if (block !== undefined) return blocks[block];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = join(v, pieces, blocks);
    return out;
  }
  return value;
}
