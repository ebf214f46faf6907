import { deserialize, serialize } from 'node:v8';

/** Arrays longer than this are written in pieces, with a yield to the event loop between. */
const CHUNK = 20_000;
const MARK = '__sluiceChunks';

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Encodes a snapshot in V8's structured-clone format without holding the event loop for
 * long: large arrays (a million state entries) are cut into pieces serialized one at a
 * time, so the pipeline keeps running while a checkpoint is written. The value must not
 * change meanwhile: snapshots are private copies. Layout: a count, then length-prefixed
 * parts: the skeleton (large arrays replaced by markers) and the pieces in order.
 */
export async function encodeChunked(value: unknown): Promise<Buffer> {
  const pieces: unknown[][] = [];
  const skeleton = cut(value, pieces);
  const parts: Buffer[] = [serialize(skeleton)];
  for (const piece of pieces) {
    parts.push(serialize(piece));
    await yieldNow();
  }
  const header = Buffer.alloc(4 + parts.length * 4);
  header.writeUInt32LE(parts.length, 0);
  parts.forEach((p, i) => header.writeUInt32LE(p.length, 4 + i * 4));
  return Buffer.concat([header, ...parts]);
}

/** Decodes what {@link encodeChunked} wrote, yielding between pieces. */
export async function decodeChunked(bytes: Buffer): Promise<unknown> {
  const count = bytes.readUInt32LE(0);
  let at = 4 + count * 4;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = bytes.readUInt32LE(4 + i * 4);
    parts.push(bytes.subarray(at, at + len));
    at += len;
  }
  const skeleton = deserialize(parts[0]!);
  const pieces: unknown[][] = [];
  for (let i = 1; i < parts.length; i++) {
    pieces.push(deserialize(parts[i]!) as unknown[]);
    await yieldNow();
  }
  return join(skeleton, pieces);
}

/** Replaces large arrays (in plain objects and arrays) by markers naming their pieces. */
function cut(value: unknown, pieces: unknown[][]): unknown {
  if (Array.isArray(value)) {
    if (value.length > CHUNK) {
      const first = pieces.length;
      for (let i = 0; i < value.length; i += CHUNK) pieces.push(value.slice(i, i + CHUNK));
      return { [MARK]: [first, pieces.length] };
    }
    return value.map((v) => cut(v, pieces));
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cut(v, pieces);
    return out;
  }
  return value;
}

function join(value: unknown, pieces: unknown[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => join(v, pieces));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const range = (value as Record<string, unknown>)[MARK] as [number, number] | undefined;
    if (range) return pieces.slice(range[0], range[1]).flat();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = join(v, pieces);
    return out;
  }
  return value;
}
