/**
 * A single-producer, single-consumer byte ring in a SharedArrayBuffer, for the exchange
 * benchmark's variant (c). Each entry is [payload length u32][timestamp count u32]
 * [timestamps f64…][payload bytes], 8-byte aligned; an entry that would not fit before
 * the end of the ring leaves a wrap marker and starts again at 0. The write and read
 * counters only grow (mod 2^32, a multiple of the power-of-two size), so used bytes are
 * `write - read` and the ring is never ambiguous between full and empty.
 *
 * Wake-ups use `Atomics.waitAsync` on the counters, so neither side blocks its event loop
 * (a task thread runs other tasks while it waits, as a real channel's would).
 */

import { toNumbers } from './shapes.js';

// Node 20 has Atomics.waitAsync; the ES2023 lib the project compiles against does not declare it.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

const HEADER_BYTES = 64;
const WRITE = 0;
const READ = 1;
const WRAP = 0xffffffff;

/** What both ends share: post it to the other thread (a SharedArrayBuffer is shared, not copied). */
export interface RingShared {
  readonly sab: SharedArrayBuffer;
}

export function createRing(bytes: number): RingShared {
  if ((bytes & (bytes - 1)) !== 0 || bytes < 1024 || bytes > 2 ** 30) throw new Error(`ring size must be a power of two in [1 KiB, 1 GiB], got ${bytes}`);
  return { sab: new SharedArrayBuffer(HEADER_BYTES + bytes) };
}

class RingView {
  protected readonly header: Int32Array;
  protected readonly size: number;
  protected readonly u8: Uint8Array;
  protected readonly u32: Uint32Array;
  protected readonly f64: Float64Array;

  constructor({ sab }: RingShared) {
    this.header = new Int32Array(sab, 0, 2);
    this.size = sab.byteLength - HEADER_BYTES;
    this.u8 = new Uint8Array(sab, HEADER_BYTES, this.size);
    this.u32 = new Uint32Array(sab, HEADER_BYTES, this.size / 4);
    this.f64 = new Float64Array(sab, HEADER_BYTES, this.size / 8);
  }
}

function entryBytes(payload: number, timestamps: number): number {
  return (8 + 8 * timestamps + payload + 7) & ~7;
}

export class RingWriter extends RingView {
  /** The read counter when `tryWrite` last found no room. */
  private seenRead = 0;

  /** Writes one entry, or returns false when the ring has no room for it now. */
  tryWrite(payload: Uint8Array, timestamps: readonly number[]): boolean {
    const need = entryBytes(payload.length, timestamps.length);
    if (need > this.size / 2) throw new Error(`entry of ${need} bytes is larger than half the ring (${this.size})`);
    let w = this.header[WRITE]! >>> 0; // only this side writes it
    this.seenRead = Atomics.load(this.header, READ);
    const used = (w - (this.seenRead >>> 0)) >>> 0;
    const free = this.size - used;
    let off = w & (this.size - 1);
    const tail = this.size - off;
    if (need > tail) {
      if (free < tail + need) return false;
      this.u32[off >> 2] = WRAP;
      w = (w + tail) >>> 0;
      off = 0;
    } else if (free < need) return false;
    this.u32[off >> 2] = payload.length;
    this.u32[(off >> 2) + 1] = timestamps.length;
    this.f64.set(timestamps as number[], (off + 8) >> 3);
    this.u8.set(payload, off + 8 + 8 * timestamps.length);
    Atomics.store(this.header, WRITE, (w + need) | 0);
    Atomics.notify(this.header, WRITE);
    return true;
  }

  /**
   * Resolves when the reader has taken something since `tryWrite` last failed. It waits on
   * the counter `tryWrite` saw, not a fresh one: a reader that drained the ring in between
   * would otherwise leave both sides waiting for each other.
   */
  waitForSpace(): Promise<unknown> {
    const res = waitAsync(this.header, READ, this.seenRead);
    return res.async ? res.value : Promise.resolve();
  }
}

export class RingReader extends RingView {
  /**
   * Hands the next entry to `decode` (payload as a view into the ring: decode before
   * returning, the bytes are reused afterwards) and frees it; undefined when empty.
   */
  tryRead<R>(decode: (payload: Uint8Array, timestamps: number[]) => R): R | undefined {
    let r = this.header[READ]! >>> 0;
    if (r === Atomics.load(this.header, WRITE) >>> 0) return undefined;
    let off = r & (this.size - 1);
    if (this.u32[off >> 2] === WRAP) {
      r = (r + this.size - off) >>> 0;
      off = 0;
    }
    const length = this.u32[off >> 2]!;
    const count = this.u32[(off >> 2) + 1]!;
    const timestamps = toNumbers(this.f64.subarray((off + 8) >> 3, ((off + 8) >> 3) + count));
    const start = off + 8 + 8 * count;
    const result = decode(this.u8.subarray(start, start + length), timestamps);
    Atomics.store(this.header, READ, (r + entryBytes(length, count)) | 0);
    Atomics.notify(this.header, READ);
    return result;
  }

  /** Resolves when the writer has added something (at once if it already has). */
  waitForData(): Promise<unknown> {
    const w = Atomics.load(this.header, WRITE);
    if (w !== this.header[READ]) return Promise.resolve();
    const res = waitAsync(this.header, WRITE, w);
    return res.async ? res.value : Promise.resolve();
  }
}
