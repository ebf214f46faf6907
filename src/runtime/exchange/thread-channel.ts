/**
 * A channel whose producing end lives in one thread and consuming end in another: the
 * exchange between subtasks of a parallel run (issue 6). It stands where a
 * {@link LocalChannel} does: {@link ThreadChannelSender} is a `ChannelSender`, {@link ThreadChannelReceiver}
 * a `ChannelReceiver`.
 *
 * How it works. Both ends hold the two sides of one `MessageChannel`, which keeps order:
 * every event goes as one message, so control events stay where they were among the
 * batches. A batch goes as one ArrayBuffer, transferred (not copied): its timestamps as
 * float64 (exact, NaN included), then its values encoded by `batch-codec.ts` (as columns
 * when the batch has one flat shape, else by msgpackr; it says what survives). The
 * consumer decodes in `shift()`, then grants credit back on the same port, with the
 * buffer, which the producer reuses for a later batch.
 *
 * Why this encoding (`npm run bench:exchange`, 2 cores, Node 20, batches of 1024, worker
 * to main thread; events/s decoded, and CPU µs per event over both threads):
 *
 *   | method                       | bids        | numbers      |
 *   | ---------------------------- | ----------- | ------------ |
 *   | postMessage (clone)          | 1.79M, 1.02 | 21.5M, 0.063 |
 *   | msgpackr, fresh buffers      | 2.28M, 0.63 | 44.1M, 0.039 |
 *   | msgpackr, returned buffers   | 2.31M, 0.62 | 50.6M, 0.035 |
 *   | msgpackr in a SAB ring       | 2.29M, 0.84 | 61.7M, 0.029 |
 *   | this channel                 | 2.15M, 0.66 | 49.7M, 0.037 |
 *
 * Since then, batches of one flat shape cross as columns (`columnar-codec.ts`): measured
 * against the channel with msgpackr alone, in one run on a loaded machine (so rates are
 * low for both), CPU µs per event went from 0.84 to 0.27 for bids, 0.15 to 0.05 for the
 * keyed aggregation's `{ user, at }` clicks, and stayed at ~0.04 for plain numbers.
 *
 * Structured clone spends most of its time deserialising on the consumer's thread;
 * msgpackr costs the two threads 40% less, most of it encoding on the producer, and
 * leaves the consumer free for its operators (under load from other work the rate gap
 * widens to ~1.6×). The SharedArrayBuffer ring wins only for plain numbers (+25%, at
 * rates no operator downstream keeps up with) and loses on CPU for objects, while it
 * would bring byte-sized capacity (a batch larger than the ring must be split),
 * wrap-around, and wake-ups by `Atomics.waitAsync`, which does not keep a thread alive,
 * so liveness would need ports anyway: not worth it. Returning buffers to the producer
 * beats allocating fresh ones for small records (+15% for numbers, even for bids): a new
 * ArrayBuffer per batch costs more than copying the encoded bytes into a reused one.
 *
 * Backpressure is credit-based, as in Flink's network stack: the producer may have
 * `capacity` batches sent and not yet taken by the consumer; then `isFull` holds and
 * `writable()` waits until the consumer's `shift()` has granted credit back. Control
 * events take no credit. Credits are gathered per turn of the consumer's microtask queue,
 * so draining many batches at once sends one message back.
 *
 * Clocks: a batch's `readAt` crosses as epoch time (`performance.timeOrigin + readAt`) and
 * comes back to the consumer's `performance.now()`. Node 20 gives every thread of a
 * process the same origin, so this changes nothing there, but it keeps latencies right
 * wherever origins differ (the test gives a worker a later one).
 *
 * Liveness: a port only keeps its thread alive while something there waits on it. The
 * consuming end holds its thread until it has received `end` (or is closed), since more
 * may come; the producing end only while `writable()` is pending. `close()` releases the
 * port for good. See `test/runtime/thread-channel.test.ts`.
 *
 * @example
 * const ends = createThreadChannel(8);
 * new Worker(url, { workerData: ends.sender, transferList: transferListOf(ends.sender) });
 * const input = openThreadChannelReceiver<Bid>(ends.receiver); // the worker opens ends.sender
 * input.onData = () => { for (let e = input.shift(); e; e = input.shift()) handle(e); };
 */
import { MessageChannel, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { SluiceError } from '../../errors/index.js';
import type { ChannelEvent, ChannelReceiver, ChannelSender } from '../channel.js';
import { FifoQueue } from '../fifo-queue.js';
import { BatchDecoder, BatchEncoder } from './batch-codec.js';

/**
 * One end of a thread channel, as {@link createThreadChannel} made it: plain data holding a
 * MessagePort, to be posted (with {@link transferListOf}) to the thread that opens it.
 */
export interface ThreadChannelEndpoint {
  readonly end: 'sender' | 'receiver';
  readonly capacity: number;
  /** Names the channel in error messages. */
  readonly name: string;
  readonly port: MessagePort;
}

/**
 * Makes a channel that may cross threads: two endpoints, each to be opened once, in
 * whichever thread will use it (both in one thread works too, for tests).
 * @param capacity batches the producer may have sent and not yet seen taken (a positive integer).
 * @param name names the channel in error messages, e.g. `"'score' 0 -> 1"`.
 */
export function createThreadChannel(capacity: number, name = 'thread channel'): { sender: ThreadChannelEndpoint; receiver: ThreadChannelEndpoint } {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `${name}: capacity must be a positive integer of batches, got ${String(capacity)}`);
  }
  const { port1, port2 } = new MessageChannel();
  return { sender: { end: 'sender', capacity, name, port: port1 }, receiver: { end: 'receiver', capacity, name, port: port2 } };
}

/** What must go in the transfer list of the message that carries `endpoint` to another thread. */
export function transferListOf(endpoint: unknown): TransferListItem[] {
  return [checkEndpoint(endpoint, undefined).port];
}

/**
 * Opens the producing end. `endpoint` is typed loosely because it usually arrives by
 * `postMessage`; one that is not a `sender` endpoint is refused.
 */
export function openThreadChannelSender<T>(endpoint: unknown): ThreadChannelSender<T> {
  return new ThreadChannelSender<T>(checkEndpoint(endpoint, 'sender'));
}

/** Opens the consuming end (see {@link openThreadChannelSender}). */
export function openThreadChannelReceiver<T>(endpoint: unknown): ThreadChannelReceiver<T> {
  return new ThreadChannelReceiver<T>(checkEndpoint(endpoint, 'receiver'));
}

function checkEndpoint(endpoint: unknown, end: 'sender' | 'receiver' | undefined): ThreadChannelEndpoint {
  const e = endpoint as Partial<ThreadChannelEndpoint> | undefined;
  const ok = typeof e === 'object' && e !== null && (e.end === 'sender' || e.end === 'receiver') && typeof e.capacity === 'number' && typeof e.port?.postMessage === 'function';
  if (!ok || (end !== undefined && e.end !== end)) {
    throw new SluiceError('INTERNAL', `expected the '${end ?? 'sender or receiver'}' endpoint of a thread channel, got ${ok ? `its '${e.end}' endpoint` : typeof endpoint}`);
  }
  return e as ThreadChannelEndpoint;
}

/** A batch on the wire: timestamps (float64 × n) then `length` bytes of encoded values, in `buffer`. */
interface BatchMessage {
  readonly kind: 'encoded-batch';
  readonly buffer: ArrayBuffer;
  readonly n: number;
  readonly length: number;
  /** `readAt` as epoch ms (performance.timeOrigin + readAt): threads' clocks may have different origins. */
  readAtEpoch?: number;
  traceId?: string;
}

type WireEvent = BatchMessage | Exclude<ChannelEvent<unknown>, { kind: 'batch' }>;

/** Credit from the consumer: batches and records taken, and their buffers back for reuse. */
interface CreditMessage {
  readonly batches: number;
  readonly records: number;
  readonly buffers: ArrayBuffer[];
}

/**
 * The producing end of a thread channel. `push` encodes and sends at once (it throws
 * `RECORD_NOT_TRANSFERABLE` for a record that cannot cross); `isFull` and `writable()`
 * follow the consumer's credit. After `close()`, or once the consuming end is gone,
 * pushes are dropped and `writable()` resolves at once.
 */
export class ThreadChannelSender<T> implements ChannelSender<T> {
  readonly capacity: number;
  readonly name: string;
  private readonly port: MessagePort;
  private readonly encoder = new BatchEncoder();
  private batches = 0;
  private records = 0;
  private writers: Array<() => void> = [];
  /** Buffers the consumer gave back (at most as many as can be in flight, plus one). */
  private spare: ArrayBuffer[] = [];
  private closed = false;

  constructor(endpoint: ThreadChannelEndpoint) {
    this.capacity = endpoint.capacity;
    this.name = endpoint.name;
    this.port = endpoint.port;
    this.port.on('message', (m: CreditMessage) => this.credit(m));
    this.port.on('close', () => this.close());
    this.port.unref(); // held only while a writer waits: see writable()
  }

  get isFull(): boolean {
    return this.batches >= this.capacity;
  }
  get queuedBatches(): number {
    return this.batches;
  }
  get queuedRecords(): number {
    return this.records;
  }

  push(event: ChannelEvent<T>): void {
    if (this.closed) return;
    if (event.kind !== 'batch') {
      this.port.postMessage(event);
      return;
    }
    const { values, timestamps } = event.batch;
    const n = values.length;
    const bytes = this.encoder.encode(values, this.name);
    const buffer = this.spareBuffer(8 * n + bytes.length);
    const column = new Float64Array(buffer, 0, n);
    for (let i = 0; i < n; i++) column[i] = timestamps[i]!;
    new Uint8Array(buffer, 8 * n, bytes.length).set(bytes);
    const m: BatchMessage = { kind: 'encoded-batch', buffer, n, length: bytes.length };
    if (event.readAt !== undefined) m.readAtEpoch = event.readAt + performance.timeOrigin;
    if (event.traceId !== undefined) m.traceId = event.traceId;
    this.port.postMessage(m, [buffer]);
    this.batches++;
    this.records += n;
  }

  /** Why `value` cannot cross (the error names the field), or undefined (see `ChannelSender.refusal`). */
  refusal(value: T): SluiceError | undefined {
    return this.encoder.refusal(value, this.name);
  }

  /** Resolves when the consumer has taken enough for the producer to be under capacity. */
  writable(): Promise<void> {
    if (!this.isFull || this.closed) return Promise.resolve();
    // A waiting producer keeps its thread alive until the credit comes.
    if (this.writers.length === 0) this.port.ref();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /** Wakes every waiting producer (the job is stopping). */
  release(): void {
    const w = this.writers;
    if (w.length === 0) return;
    this.writers = [];
    if (!this.closed) this.port.unref();
    for (const wake of w) wake();
  }

  /** Closes the port (the consuming end sees the channel closed); wakes waiting producers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    this.release();
  }

  private credit(m: CreditMessage): void {
    this.batches -= m.batches;
    this.records -= m.records;
    for (const b of m.buffers) if (this.spare.length <= this.capacity) this.spare.push(b);
    if (this.writers.length > 0 && !this.isFull) this.release();
  }

  /** A buffer of at least `bytes`: a returned one if one is big enough, else a new one with room to grow. */
  private spareBuffer(bytes: number): ArrayBuffer {
    const s = this.spare;
    for (let i = s.length - 1; i >= 0; i--) {
      if (s[i]!.byteLength >= bytes) {
        const b = s[i]!;
        s[i] = s[s.length - 1]!;
        s.pop();
        return b;
      }
    }
    return new ArrayBuffer(Math.max(4096, Math.ceil(bytes * 1.25)));
  }
}

/**
 * The consuming end of a thread channel. Events wait here as they arrived (batches still
 * encoded); `shift()` decodes the next one and grants its credit back. A batch's
 * `readAt` is in this thread's `performance.now()` clock. `closed` turns true when
 * either end has closed the channel (the producer's thread may have ended): events
 * already received can still be taken.
 */
export class ThreadChannelReceiver<T> implements ChannelReceiver<T> {
  readonly capacity: number;
  readonly name: string;
  /** Called when an event arrives (the consumer's task wakes up), and when the channel closes. */
  onData: () => void = () => {};
  private readonly port: MessagePort;
  private readonly decoder = new BatchDecoder();
  private readonly events = new FifoQueue<WireEvent>();
  private takenBatches = 0;
  private takenRecords = 0;
  private returned: ArrayBuffer[] = [];
  private granting = false;
  private isClosed = false;

  constructor(endpoint: ThreadChannelEndpoint) {
    this.capacity = endpoint.capacity;
    this.name = endpoint.name;
    this.port = endpoint.port;
    this.port.on('message', (m: WireEvent) => {
      this.events.push(m);
      // Nothing can follow the end: stop holding the thread for this channel.
      if (m.kind === 'end') this.port.unref();
      this.onData();
    });
    this.port.on('close', () => {
      this.isClosed = true;
      this.onData();
    });
  }

  get isEmpty(): boolean {
    return this.events.isEmpty;
  }

  /** Either end has closed the channel: nothing more will arrive. */
  get closed(): boolean {
    return this.isClosed;
  }

  shift(): ChannelEvent<T> | undefined {
    const m = this.events.shift();
    if (m === undefined) return undefined;
    if (m.kind !== 'encoded-batch') return m;
    const n = m.n;
    const column = new Float64Array(m.buffer, 0, n);
    // a loop into new Array(n): Array.from on a typed array is ~15× slower
    const timestamps = new Array<number>(n);
    for (let i = 0; i < n; i++) timestamps[i] = column[i]!;
    const values = this.decoder.decode<T>(new Uint8Array(m.buffer, 8 * n, m.length));
    this.grant(n, m.buffer);
    const batch = { values, timestamps };
    if (m.readAtEpoch === undefined) return m.traceId === undefined ? { kind: 'batch', batch } : { kind: 'batch', batch, traceId: m.traceId };
    return { kind: 'batch', batch, readAt: m.readAtEpoch - performance.timeOrigin, traceId: m.traceId };
  }

  /** Closes the port: the thread no longer waits for it, and the producing end sees the channel closed. */
  close(): void {
    this.isClosed = true;
    this.port.close();
  }

  /** Credit for a taken batch goes back once per microtask turn, however many were taken in it. */
  private grant(records: number, buffer: ArrayBuffer): void {
    this.takenBatches++;
    this.takenRecords += records;
    this.returned.push(buffer);
    if (this.granting) return;
    this.granting = true;
    queueMicrotask(() => {
      this.granting = false;
      const m: CreditMessage = { batches: this.takenBatches, records: this.takenRecords, buffers: this.returned };
      this.takenBatches = 0;
      this.takenRecords = 0;
      this.returned = [];
      if (!this.isClosed) this.port.postMessage(m, m.buffers);
    });
  }
}
