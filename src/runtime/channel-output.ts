import type { SluiceError } from '../errors/index.js';
import type { BatchContext } from '../observe/step-metrics.js';
import type { Clock } from '../time/clock.js';
import { BatchBuilder, type Batch } from './batch.js';
import type { ChannelEvent, ChannelSender } from './channel.js';
import type { Output } from './output.js';

type BatchEvent<T> = Extract<ChannelEvent<T>, { kind: 'batch' }>;

/** Where a channel output's failures go: its producing step's failure policy, through its task. */
export interface ChannelOutputFailures {
  /** A failure outside the task's own calls (the flush timer's): the task fails with it. */
  fail(error: unknown): void;
  /**
   * A record the channel refused (it cannot cross to another thread): throws under the
   * `fail` policy, else dead-letters it (`step-errors.ts`); or gives a record to send in
   * its place (the dead-letter stream sends a letter's copy that can cross).
   */
  refused(error: SluiceError, record: unknown, timestamp: number): { readonly instead: unknown } | undefined;
}

/**
 * The output that writes to one channel (to one consuming subtask). Small batches (after a selective filter, say) are
 * gathered until `batchSize` records or until `flushIntervalMs` has passed since the
 * first of them, whichever comes first; a control event or an idle producer flushes at
 * once. This trades a bounded delay for fewer, fuller batches. A small batch is copied
 * only when another joins it: alone until the flush, it goes as it is.
 */
export class ChannelOutput<T> implements Output<T> {
  private readonly pending = new BatchBuilder<T>();
  /**
   * The first small batch since the last flush, kept as it is: if a flush comes before
   * another batch (a source sends a watermark after each batch), it goes without a copy.
   * Set only while `pending` is empty.
   */
  private held: Batch<T> | undefined;
  private cancelFlush: (() => void) | undefined;
  private pendingReadAt = Number.NaN;
  private pendingTrace: string | undefined;

  constructor(
    readonly channel: ChannelSender<T>,
    private readonly batchSize: number,
    private readonly flushIntervalMs: number,
    private readonly clock: Clock,
    /** With metrics on: the job's current batch, whose read time and trace id go with what is sent. */
    private readonly context?: BatchContext | undefined,
    /** Without it (tests of the channel alone), failures throw where they happen. */
    private readonly failures?: ChannelOutputFailures | undefined,
  ) {}

  emitBatch(batch: Batch<T>): void {
    const n = batch.values.length;
    if (n === 0) return;
    const context = this.context;
    const gathered = this.pending.length + (this.held?.values.length ?? 0);
    if (gathered === 0 && n * 2 >= this.batchSize) {
      // already full enough: no copy
      this.send(context ? { kind: 'batch', batch, readAt: context.readAt, traceId: context.traceId } : { kind: 'batch', batch });
      return;
    }
    if (context) {
      // The gathered batch carries the read time of its oldest record.
      if (!(this.pendingReadAt <= context.readAt)) this.pendingReadAt = context.readAt;
      this.pendingTrace ??= context.traceId;
    }
    if (gathered === 0) this.held = batch;
    else {
      if (this.held !== undefined) {
        this.append(this.held);
        this.held = undefined;
      }
      this.append(batch);
    }
    if (gathered + n >= this.batchSize) this.flush();
    else if (this.cancelFlush === undefined) {
      this.cancelFlush = this.clock.schedule(this.clock.now() + this.flushIntervalMs, () => {
        this.cancelFlush = undefined;
        // Outside the task's calls: what the flush throws (a refused record under the
        // `fail` policy) fails the task, as a throw in its loop would.
        if (!this.failures) return this.flush();
        try {
          this.flush();
        } catch (e) {
          this.failures.fail(e);
        }
      });
    }
  }
  emitWatermark(watermark: number): void {
    this.flush();
    this.channel.push({ kind: 'watermark', watermark });
  }
  emitIdle(idle: boolean): void {
    this.flush();
    this.channel.push({ kind: 'idle', idle });
  }
  /** A checkpoint barrier: everything before it belongs to the checkpoint. */
  emitBarrier(checkpointId: number): void {
    this.flush();
    this.channel.push({ kind: 'barrier', checkpointId });
  }
  emitEnd(): void {
    this.flush();
    this.channel.push({ kind: 'end' });
  }

  /** Sends the gathered records now. */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const held = this.held;
    if (held === undefined && this.pending.length === 0) return;
    this.held = undefined;
    const batch = held ?? this.pending.take();
    if (this.context) {
      const readAt = this.pendingReadAt;
      const traceId = this.pendingTrace;
      this.pendingReadAt = Number.NaN;
      this.pendingTrace = undefined;
      this.send({ kind: 'batch', batch, readAt, traceId });
    } else this.send({ kind: 'batch', batch });
  }

  /** Pushes a batch; one the channel refuses goes to {@link sendRefused}. */
  private send(event: BatchEvent<T>): void {
    try {
      this.channel.push(event);
    } catch (e) {
      this.sendRefused(event, e);
    }
  }

  /**
   * Slow path after the channel refused a batch (a record that cannot cross to another
   * thread): each refused record goes to the step's failure policy (the job fails, or the
   * record is a dead letter), the others go on in order. A batch refused with no record
   * refused alone fails as a whole (and a replacement refused again fails). See
   * `worker-failures.test.ts`.
   */
  private sendRefused(event: BatchEvent<T>, error: unknown): void {
    if (!this.failures || !this.channel.refusal) throw error;
    const { values, timestamps } = event.batch;
    const kept = new BatchBuilder<T>();
    for (let i = 0; i < values.length; i++) {
      const refused = this.channel.refusal(values[i]!);
      if (refused === undefined) kept.push(values[i]!, timestamps[i]!);
      else {
        const replaced = this.failures.refused(refused, values[i], timestamps[i]!);
        if (replaced) kept.push(replaced.instead as T, timestamps[i]!);
      }
    }
    if (kept.length === values.length && kept.values.every((v, i) => v === values[i])) throw error;
    if (kept.length > 0) this.channel.push({ ...event, batch: kept.take() });
  }

  private append(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    for (let i = 0; i < values.length; i++) this.pending.push(values[i]!, timestamps[i]!);
  }

  /** Stops the flush timer (the task is closing). */
  dispose(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
  }
}
