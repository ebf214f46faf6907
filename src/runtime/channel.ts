import type { SluiceError } from '../errors/index.js';
import type { Batch } from './batch.js';
import { FifoQueue } from './fifo-queue.js';

/** What travels on a channel, in order: records in batches, interleaved with control events. */
export type ChannelEvent<T> =
  | {
      readonly kind: 'batch';
      readonly batch: Batch<T>;
      /** When the oldest of its records was read at a source (`performance.now()`), for the latency metric. */
      readonly readAt?: number;
      /** The trace id of a sampled batch (see `observe/tracing.ts`). */
      readonly traceId?: string | undefined;
    }
  | { readonly kind: 'watermark'; readonly watermark: number }
  | { readonly kind: 'idle'; readonly idle: boolean }
  | { readonly kind: 'barrier'; readonly checkpointId: number }
  | { readonly kind: 'end' };

/**
 * The sending end of a channel: a task's {@link ChannelOutput} pushes here. Bounded:
 * once `isFull`, the producer finishes the input it is handling and then waits in
 * `writable()` (backpressure).
 */
export interface ChannelSender<T> {
  readonly capacity: number;
  readonly isFull: boolean;
  /** Batches sent and not yet taken by the consumer (for metrics). */
  readonly queuedBatches: number;
  /** Records sent and not yet taken by the consumer (for metrics). */
  readonly queuedRecords: number;
  /** Sends an event. A thread channel throws `RECORD_NOT_TRANSFERABLE` for a batch it cannot carry (and sends none of it). */
  push(event: ChannelEvent<T>): void;
  /**
   * Why this channel cannot carry `value` (a `RECORD_NOT_TRANSFERABLE` error), or undefined
   * when it can: how a `ChannelOutput` finds which records of a refused batch to
   * route to its step's failure policy. Only channels that can refuse have it.
   */
  refusal?(value: T): SluiceError | undefined;
  /** Resolves when there is room again. */
  writable(): Promise<void>;
  /** Wakes every waiting producer (the job is stopping). */
  release(): void;
}

/** The receiving end of a channel: a task's {@link InputGate} takes from here. */
export interface ChannelReceiver<T> {
  /** Called when an event arrives (the consumer's task wakes up). */
  onData: () => void;
  shift(): ChannelEvent<T> | undefined;
  readonly isEmpty: boolean;
}

/**
 * A bounded in-process queue between two tasks. The bound is in batches: the producer
 * may add the output of the input it is handling, then waits in `writable()` until the
 * consumer has brought the queue back under capacity (backpressure). See `channel.test.ts`.
 */
export class LocalChannel<T> implements ChannelSender<T>, ChannelReceiver<T> {
  private readonly events = new FifoQueue<ChannelEvent<T>>();
  private batches = 0;
  private records = 0;
  private writers: Array<() => void> = [];
  /** Called when an event arrives (the consumer's task wakes up). */
  onData: () => void = () => {};

  constructor(readonly capacity: number) {}

  get isFull(): boolean {
    return this.batches >= this.capacity;
  }
  /** Batches waiting (for metrics and tests). */
  get queuedBatches(): number {
    return this.batches;
  }
  /** Records waiting (for metrics and tests). */
  get queuedRecords(): number {
    return this.records;
  }

  push(event: ChannelEvent<T>): void {
    this.events.push(event);
    if (event.kind === 'batch') {
      this.batches++;
      this.records += event.batch.values.length;
    }
    this.onData();
  }

  shift(): ChannelEvent<T> | undefined {
    const e = this.events.shift();
    if (e === undefined) return undefined;
    if (e.kind === 'batch') {
      this.batches--;
      this.records -= e.batch.values.length;
      if (this.writers.length > 0 && this.batches < this.capacity) {
        const w = this.writers;
        this.writers = [];
        for (const wake of w) wake();
      }
    }
    return e;
  }

  get isEmpty(): boolean {
    return this.events.isEmpty;
  }

  /** Resolves when the queue is under capacity. */
  writable(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /** Wakes every waiting writer (the job is stopping). */
  release(): void {
    const w = this.writers;
    this.writers = [];
    for (const wake of w) wake();
  }
}
