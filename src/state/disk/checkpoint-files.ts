/**
 * The file format of on-disk backend checkpoints: a full file holds every record, a delta
 * file the records changed since the previous checkpoint (deleted ones as tombstones).
 * Internal to `state/disk/`.
 *
 * ```
 * file   := magic "SLST" | version u8 (1) | kind u8 (0 full, 1 delta) | frame* | end
 * frame  := keyLength u16 BE | key | valueLength i32 BE (-1: deleted) | value
 * end    := keyLength 0xFFFF
 * ```
 *
 * Keys and values are the LMDB records as they are (`codec.ts`). Metadata records (state
 * registry) come first in every file, so a reader knows the state ids before the data.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { SluiceError } from '../../errors/index.js';

const MAGIC = Buffer.from('SLST', 'latin1');
const VERSION = 1;
const CHUNK = 1 << 20;

/** Writes frames to a file in 1 MiB chunks; returns the bytes written. */
export class FrameWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;
  bytes = 0;
  frames = 0;

  constructor(
    readonly path: string,
    kind: 'full' | 'delta',
  ) {
    this.fd = openSync(path, 'w');
    MAGIC.copy(this.buf, 0);
    this.buf[4] = VERSION;
    this.buf[5] = kind === 'full' ? 0 : 1;
    this.at = 6;
  }

  /** Appends one record; `value` undefined is a tombstone. */
  add(key: Uint8Array, value: Uint8Array | undefined): void {
    const need = 2 + key.length + 4 + (value?.length ?? 0);
    if (this.at + need > this.buf.length) this.drain();
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    this.buf.writeUInt16BE(key.length, this.at);
    this.buf.set(key, this.at + 2);
    this.at += 2 + key.length;
    this.buf.writeInt32BE(value === undefined ? -1 : value.length, this.at);
    this.at += 4;
    if (value !== undefined) {
      this.buf.set(value, this.at);
      this.at += value.length;
    }
    this.frames++;
  }

  /** Writes the end marker and closes the file. */
  finish(): number {
    if (this.at + 2 > this.buf.length) this.drain();
    this.buf.writeUInt16BE(0xffff, this.at);
    this.at += 2;
    this.drain();
    closeSync(this.fd);
    return this.bytes;
  }

  /** Closes without finishing (after a failure). */
  abandon(): void {
    closeSync(this.fd);
  }

  private drain(): void {
    let off = 0;
    while (off < this.at) off += writeSync(this.fd, this.buf, off, this.at - off);
    this.bytes += this.at;
    this.at = 0;
  }
}

/** Reads a checkpoint file: its kind and its frames in order (values undefined for tombstones). */
export function readFrames(path: string): { kind: 'full' | 'delta'; frames: Array<[Buffer, Buffer | undefined]> } {
  const b = readFileSync(path);
  if (b.length < 8 || !b.subarray(0, 4).equals(MAGIC) || b[4] !== VERSION) {
    throw new SluiceError('STATE_INCOMPATIBLE', `${path} is not an on-disk state checkpoint file (version ${VERSION})`);
  }
  const kind = b[5] === 0 ? 'full' : 'delta';
  const frames: Array<[Buffer, Buffer | undefined]> = [];
  let at = 6;
  for (;;) {
    if (at + 2 > b.length) throw truncated(path);
    const kl = b.readUInt16BE(at);
    if (kl === 0xffff) break;
    if (at + 2 + kl + 4 > b.length) throw truncated(path);
    const key = b.subarray(at + 2, at + 2 + kl);
    at += 2 + kl;
    const vl = b.readInt32BE(at);
    at += 4;
    if (vl < 0) frames.push([key, undefined]);
    else {
      if (at + vl > b.length) throw truncated(path);
      frames.push([key, b.subarray(at, at + vl)]);
      at += vl;
    }
  }
  return { kind, frames };
}

function truncated(path: string): SluiceError {
  return new SluiceError('STATE_INCOMPATIBLE', `the checkpoint file ${path} is truncated`);
}
