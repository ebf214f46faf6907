/**
 * The producing thread of the exchange benchmark: sends `batches` batches of one shape
 * to the main thread by one method, as fast as the consumer's credit allows (at most
 * `window` batches in flight, as a channel of that capacity would), once per `run` message.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import type { Batch } from '../../src/runtime/batch.js';
import { openThreadChannelSender } from '../../src/runtime/exchange/thread-channel.js';
import { RingWriter, type RingShared } from './ring.js';
import { makeBatches, type Shape } from './shapes.js';

export type Method = 'clone' | 'msgpack' | 'msgpack-reuse' | 'ring' | 'typed' | 'thread-channel';

/** What the main thread gives the producing worker. */
export interface ProducerData {
  readonly method: Method;
  readonly shape: Shape;
  readonly batchSize: number;
  readonly poolSize: number;
  readonly window: number;
  readonly port: MessagePort;
  readonly ring?: RingShared;
  /** For thread-channel: the producing end of `src/runtime/exchange/thread-channel.ts`. */
  readonly endpoint?: unknown;
}

const { method, shape, batchSize, poolSize, window, port, ring, endpoint } = workerData as ProducerData;
const pool = makeBatches(shape, poolSize, batchSize);
const packr = new Packr();

// Credit: the consumer posts { credit, buffers? } for each batch it has decoded.
let inFlight = 0;
let wake: (() => void) | undefined;
const spare: ArrayBuffer[] = [];
port.on('message', (m: { credit: number; buffers?: ArrayBuffer[] }) => {
  inFlight -= m.credit;
  if (m.buffers) spare.push(...m.buffers);
  const w = wake;
  wake = undefined;
  w?.();
});

function creditArrived(): Promise<void> {
  return new Promise((resolve) => (wake = resolve));
}

/** A buffer of at least `bytes` from those the consumer gave back, or a new one. */
function spareBuffer(bytes: number): ArrayBuffer {
  for (let i = spare.length - 1; i >= 0; i--) {
    if (spare[i]!.byteLength >= bytes) return spare.splice(i, 1)[0]!;
  }
  return new ArrayBuffer(Math.ceil(bytes * 1.25));
}

function send(b: Batch<unknown>): void {
  switch (method) {
    case 'clone':
      port.postMessage({ values: b.values, timestamps: b.timestamps });
      return;
    case 'msgpack': {
      // pack() returns a view into the packer's own arena: copy it out to transfer it
      const bytes = new Uint8Array(packr.pack(b.values));
      const ts = new Float64Array(b.timestamps);
      port.postMessage({ bytes, ts }, [bytes.buffer, ts.buffer]);
      return;
    }
    case 'msgpack-reuse': {
      // timestamps then the packed values, copied into one buffer the consumer gave back
      const packed = packr.pack(b.values);
      const n = b.timestamps.length;
      const buffer = spareBuffer(8 * n + packed.length);
      new Float64Array(buffer, 0, n).set(b.timestamps);
      new Uint8Array(buffer, 8 * n, packed.length).set(packed);
      port.postMessage({ buffer, n, length: packed.length }, [buffer]);
      return;
    }
    case 'typed': {
      const values = new Float64Array(b.values as number[]);
      const ts = new Float64Array(b.timestamps);
      port.postMessage({ values, ts }, [values.buffer, ts.buffer]);
      return;
    }
    case 'ring':
    case 'thread-channel':
      throw new Error(`${method} has its own loop`);
  }
}

async function produce(batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) {
    while (inFlight >= window) await creditArrived();
    send(pool[i % pool.length]!);
    inFlight++;
  }
}

async function produceRing(batches: number): Promise<void> {
  const writer = new RingWriter(ring!);
  for (let i = 0; i < batches; i++) {
    const b = pool[i % pool.length]!;
    const bytes = packr.pack(b.values);
    while (!writer.tryWrite(bytes, b.timestamps)) await writer.waitForSpace();
  }
}

const channel = method === 'thread-channel' ? openThreadChannelSender<unknown>(endpoint) : undefined;

/** As a task's ChannelOutput and drain() use the channel: push, and wait while it is full. */
async function produceChannel(batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) {
    channel!.push({ kind: 'batch', batch: pool[i % pool.length]! });
    if (channel!.isFull) await channel!.writable();
  }
}

parentPort!.on('message', (m: { batches: number }) => {
  const run = method === 'ring' ? produceRing : method === 'thread-channel' ? produceChannel : produce;
  void run(m.batches).then(() => parentPort!.postMessage('sent'));
});
parentPort!.postMessage('ready');
