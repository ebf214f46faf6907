import { SluiceError, describeRecord } from '../../../errors/index.js';
import type { Histogram } from '../../../observe/histogram.js';
import { BatchBuilder, hasTimestamp, type Batch } from '../../batch.js';
import { FifoQueue } from '../../fifo-queue.js';
import { Operator } from '../../operator.js';
import { NOT_READY, type AsyncConfig, type SubtaskCalls } from './async-config.js';
import { AttemptContext } from './attempt-context.js';
import { recordEntry, type AsyncState, type QueueOutput, type RecordEntry, type ResultQueue, type SavedRecord } from './entry.js';
import { OrderedQueue } from './ordered-queue.js';
import { UnorderedQueue } from './unordered-queue.js';

/**
 * Calls an async function per record with at most `capacity` records held (Flink's
 * AsyncWaitOperator). Each call has a timeout per attempt and a retry policy; results
 * come back through the task (`runtime.runInTask`) and leave in the order the queue
 * allows (ordered, or unordered within watermarks). While the queue is full the operator
 * defers its task: no more input (backpressure). A checkpoint keeps the queue: records
 * in flight, and results not yet sent; a restore calls again for the former.
 */
export class AsyncWaitOperator<I, O> extends Operator<I, O> {
  private queue!: ResultQueue<I, O>;
  /** Records that came while the queue was full, oldest first. */
  private readonly waiting = new FifoQueue<RecordEntry<I, O>>();
  private waitingCount = 0;
  /** Resolves the promise the task waits on while records wait for room (or, at the end, for the queue to empty). */
  private wake: (() => void) | undefined;
  private ending = false;
  private restored: readonly (SavedRecord | { w: number })[] | undefined;
  /** Every entry with an attempt running or a retry pending (aborted on close). */
  private readonly active = new Set<RecordEntry<I, O>>();
  /** Counters read at scrape time: attempts that timed out, retries made, records whose call failed for good. */
  timeouts = 0;
  retries = 0;
  failures = 0;
  /** Records whose result came from the fallback (the dependency was unavailable). */
  degraded = 0;
  /** Per-key order: for each key with a call running, the records of that key waiting their turn. */
  private readonly keyLines = new Map<unknown, FifoQueue<RecordEntry<I, O>>>();
  /** This subtask's calls when the step keeps something per subtask (a lookup join's cache). */
  private calls: SubtaskCalls<I, O> | undefined;
  private fn!: AsyncConfig<I, O>['fn'];
  /** Results of calls not yet sent (see {@link emit}), and whether their flush is due. */
  private pendingOut: BatchBuilder<O> | undefined;
  private flushScheduled = false;
  /** Set while a batch is handled: results ready at once gather here and leave as one batch. */
  private gathering: BatchBuilder<O> | undefined;

  constructor(private readonly config: AsyncConfig<I, O>) {
    super();
  }

  override initializeState(state: unknown): void {
    this.restored = (state as AsyncState).queue;
  }

  /** At another parallelism: the old subtasks' records are dealt out (their watermarks are dropped; upstream sends new ones). */
  override initializeStateParts(parts: readonly unknown[]): void {
    const { index, parallelism } = this.runtime.subtask;
    this.restored = parts.flatMap((p, j) => (j % parallelism === index && p ? (p as AsyncState).queue.filter((e) => 'v' in e) : []));
  }

  override open(): void {
    this.config.dependency?.useClock(this.runtime.clock);
    this.calls = this.config.perSubtask?.(this.runtime.clock);
    this.fn = this.calls?.fn ?? this.config.fn;
    const out: QueueOutput<I, O> = {
      records: (entries) => this.emit(entries),
      watermark: (w) => {
        this.flushOut();
        this.out.watermark(w);
      },
    };
    this.queue = this.config.ordered ? new OrderedQueue(out) : new UnorderedQueue(out);
    const restored = this.restored ?? [];
    this.restored = undefined;
    const done: RecordEntry<I, O>[] = [];
    for (const saved of restored) {
      if ('w' in saved) {
        this.queue.addWatermark(saved.w);
        continue;
      }
      const entry = recordEntry<I, O>(saved.v as I, saved.t, saved.r as O[] | undefined);
      if (entry.results !== undefined) {
        this.queue.add(entry);
        done.push(entry);
      } else this.admit(entry);
    }
    for (const entry of done) this.queue.completed(entry);
    this.holdWhileWaiting();
  }

  processBatch(batch: Batch<I>): void {
    const { values, timestamps } = batch;
    const calls = this.calls;
    this.flushOut(); // results that came before this batch go first
    const gathered = (this.gathering = new BatchBuilder<O>());
    try {
      for (let i = 0; i < values.length; i++) {
        const entry = recordEntry<I, O>(values[i]!, timestamps[i]!);
        let now: O | typeof NOT_READY = NOT_READY;
        if (calls && this.waitingCount === 0 && this.queue.size < this.config.capacity) {
          try {
            now = calls.immediate(entry.value);
          } catch (error) {
            this.failures++;
            this.runtime.userError(error, entry.value, entry.timestamp, this.config.what);
            continue;
          }
        }
        if (now === NOT_READY) this.admit(entry);
        else {
          this.queue.add(entry);
          this.finish(entry, [now]);
        }
      }
    } finally {
      this.gathering = undefined;
    }
    if (gathered.length > 0) this.out.main.emitBatch(gathered.take());
    this.holdWhileWaiting();
  }

  /** Cache hits and misses of a lookup join's subtask (undefined for other async steps), read by the metrics. */
  get cacheHits(): number | undefined {
    return this.calls?.figures.hits;
  }
  get cacheMisses(): number | undefined {
    return this.calls?.figures.misses;
  }
  /** A lookup join's cache entries served stale while its table was unavailable. */
  get staleServed(): number | undefined {
    return this.calls?.figures.stale;
  }
  /** How long a lookup join's calls to its table took. */
  get lookupLatency(): Histogram | undefined {
    return this.calls?.figures.latency;
  }

  override processWatermark(watermark: number): void {
    this.watermark = watermark;
    this.queue.addWatermark(watermark);
  }

  override endInput(): void {
    this.ending = true;
    if (this.queue.size === 0 && this.waitingCount === 0) {
      this.flushOut();
      return this.out.end();
    }
    this.hold();
  }

  override snapshotState(): AsyncState {
    const queue = this.queue.saved();
    // Records waiting for room came after everything in the queue.
    for (const e of this.waiting.values()) queue.push({ v: e.value, t: e.timestamp });
    return { queue };
  }

  /** Results gathered from calls go ahead of the barrier: the checkpoint needs none of them. */
  override prepareSnapshotPreBarrier(): void {
    this.flushOut();
  }

  /** Sends the results gathered from calls as one batch. */
  private flushOut(): void {
    this.flushScheduled = false;
    const b = this.pendingOut;
    if (b !== undefined && b.length > 0) this.out.main.emitBatch(b.take());
  }

  override close(): void {
    for (const entry of this.active) {
      entry.cancelTimer?.();
      entry.context?.abort();
    }
    this.active.clear();
  }

  /** The queue's size: records in flight or with results waiting (what `capacity` bounds). */
  get inFlight(): number {
    return this.queue.size;
  }

  /** Queues a record and starts its call, or keeps it waiting while the queue is full. */
  private admit(entry: RecordEntry<I, O>): void {
    if (this.queue.size < this.config.capacity && this.waitingCount === 0) this.start(entry);
    else {
      this.waiting.push(entry);
      this.waitingCount++;
    }
  }

  private start(entry: RecordEntry<I, O>): void {
    this.queue.add(entry);
    this.active.add(entry);
    const keyOf = this.config.keyOf;
    if (keyOf) {
      // Per-key order: while a call of its key runs, the record waits in the key's line (in the queue all the same).
      const key = keyOf(entry.value);
      const line = this.keyLines.get(key);
      if (line) return line.push(entry);
      this.keyLines.set(key, new FifoQueue());
    }
    this.firstAttempt(entry);
  }

  private firstAttempt(entry: RecordEntry<I, O>): void {
    entry.attempt = 1;
    this.attempt(entry);
  }

  /** Per-key order: the record's call is over; the next of its key starts. */
  private nextOfKey(entry: RecordEntry<I, O>): void {
    const key = this.config.keyOf!(entry.value);
    const line = this.keyLines.get(key);
    if (line === undefined) return;
    const next = line.shift();
    if (next === undefined) this.keyLines.delete(key);
    else this.firstAttempt(next);
  }

  /** While records wait for room, the task takes no more input. */
  private holdWhileWaiting(): void {
    if (this.waitingCount > 0) this.hold();
  }

  /**
   * Holds the task until {@link emit} lets it go: one promise at a time, so that the end
   * of input coming in the same turn as a batch that filled the queue (a chained source
   * ends right after its last batch) waits on the same one.
   */
  private hold(): void {
    if (this.wake === undefined) this.runtime.defer(new Promise<void>((resolve) => (this.wake = resolve)));
  }

  private attempt(entry: RecordEntry<I, O>): void {
    const attempt = entry.attempt;
    const context = (entry.context = new AttemptContext(attempt, hasTimestamp(entry.timestamp) ? entry.timestamp : undefined));
    const { timeoutMs } = this.config;
    const { fn } = this;
    const { dependency } = this.config;
    let call: Promise<unknown>;
    try {
      // Without a timeout nothing aborts an attempt but the end of the step: the dependency need not watch the signal.
      call = dependency ? dependency.execute(() => fn(entry.value, context), timeoutMs === undefined ? undefined : context.signal) : fn(entry.value, context);
    } catch (error) {
      call = Promise.reject(error);
    }
    if (timeoutMs !== undefined) {
      entry.cancelTimer = this.runtime.scheduleProcessingTime(this.runtime.clock.now() + timeoutMs, () => {
        this.timeouts++;
        const error = new SluiceError(
          'ASYNC_TIMEOUT',
          `step '${this.uid}' (${this.kind}): the ${this.config.what} did not answer within ${timeoutMs} ms (attempt ${attempt}) on record ${describeRecord(entry.value)}`,
          { step: this.uid },
        );
        context.abort(error);
        this.failed(entry, attempt, error);
      });
    }
    Promise.resolve(call).then(
      (result) => this.runtime.runInTask(() => this.answered(entry, attempt, result)),
      (error: unknown) => this.runtime.runInTask(() => this.failed(entry, attempt, error)),
    );
  }

  /** Whether `attempt` is still the one that counts for `entry` (running: not timed out, not superseded); if so it is over now. */
  private current(entry: RecordEntry<I, O>, attempt: number): boolean {
    if (entry.attempt !== attempt || entry.results !== undefined || entry.context === undefined) return false;
    entry.cancelTimer?.();
    entry.cancelTimer = undefined;
    entry.context = undefined;
    return true;
  }

  private answered(entry: RecordEntry<I, O>, attempt: number, result: unknown): void {
    if (!this.current(entry, attempt)) return;
    const { retry } = this.config;
    if (attempt < retry.maxAttempts && retry.retryOnResult(result)) return this.retryLater(entry, attempt);
    let results: O[];
    try {
      results = this.config.single ? [result as O] : Array.isArray(result) ? (result as O[]) : Array.from(result as Iterable<O>);
    } catch (error) {
      return this.failed(entry, attempt, error, true);
    }
    this.finish(entry, results);
  }

  private failed(entry: RecordEntry<I, O>, attempt: number, error: unknown, checked = false): void {
    if (!checked && !this.current(entry, attempt)) return;
    const { retry } = this.config;
    if (attempt < retry.maxAttempts && retry.retryOnError(error)) return this.retryLater(entry, attempt);
    const calls = this.calls;
    if (calls?.fallback && calls.degradesOn!(error)) {
      const result = this.fallbackResult(entry, () => calls.fallback!(entry.value, error));
      if (result !== NOT_READY) return;
    } else if (this.config.fallback && isUnavailable(error)) {
      const fallback = this.config.fallback;
      return void this.fallbackResult(entry, () => fallback(entry.value, error));
    }
    this.failures++;
    // The record's results are none: under 'dead-letter' it is a letter and the queue goes on;
    // under 'fail' userError throws, which fails the task (runInTask).
    this.finish(entry, []);
    this.runtime.userError(this.finalError(error, attempt, entry), entry.value, entry.timestamp, this.config.what);
  }

  /**
   * The dependency was unavailable at the last attempt: the fallback's result stands in
   * (counted as degraded). NOT_READY from it: it has none, and the failure stands.
   */
  private fallbackResult(entry: RecordEntry<I, O>, fallback: () => O | typeof NOT_READY): O | typeof NOT_READY | undefined {
    let result: O | typeof NOT_READY;
    try {
      result = fallback();
    } catch (e) {
      this.failures++;
      this.finish(entry, []);
      this.runtime.userError(e, entry.value, entry.timestamp, 'fallback function');
      return undefined;
    }
    if (result === NOT_READY) return result;
    this.degraded++;
    this.finish(entry, [result]);
    return result;
  }

  private finalError(error: unknown, attempts: number, entry: RecordEntry<I, O>): unknown {
    if (attempts === 1) return error;
    const reason = error instanceof SluiceError ? error.message.split('\n')[0]! : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new SluiceError('ASYNC_RETRIES_EXHAUSTED', `step '${this.uid}' (${this.kind}): the ${this.config.what} failed ${attempts} attempts on record ${describeRecord(entry.value)}; the last: ${reason}`, {
      step: this.uid,
      cause: error,
    });
  }

  private retryLater(entry: RecordEntry<I, O>, attempt: number): void {
    this.retries++;
    entry.attempt = attempt + 1; // from now on, a late answer of `attempt` is ignored
    const at = this.runtime.clock.now() + this.config.retry.delayMs(attempt);
    entry.cancelTimer = this.runtime.scheduleProcessingTime(at, () => {
      entry.cancelTimer = undefined;
      this.attempt(entry);
    });
  }

  private finish(entry: RecordEntry<I, O>, results: O[]): void {
    entry.results = results;
    this.active.delete(entry);
    if (this.config.keyOf) this.nextOfKey(entry);
    this.queue.completed(entry);
  }

  /** Records whose results may leave: one batch, then room for those waiting. */
  /**
   * Results that may leave. Those of one batch's immediate answers leave with it; those
   * that come back from calls gather until the event loop has run the other answers of
   * the same turn (a reply of many commands), then leave as one batch
   * ({@link flushOut}): a batch per result would cost every step after this one.
   */
  private emit(entries: readonly RecordEntry<I, O>[]): void {
    let b = this.gathering;
    if (b === undefined) {
      b = this.pendingOut ??= new BatchBuilder<O>();
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.runtime.runInTask(() => this.flushOut()));
      }
    }
    for (const e of entries) for (const r of e.results!) b.push(r, e.timestamp);
    while (this.waitingCount > 0 && this.queue.size < this.config.capacity) {
      this.waitingCount--;
      this.start(this.waiting.shift()!);
    }
    if (this.waitingCount > 0) return;
    if (this.ending) {
      if (this.queue.size > 0) return;
      this.ending = false;
      this.flushOut();
      this.out.end();
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A refusal of an unavailable dependency (its breaker open, its bulkhead full). */
function isUnavailable(error: unknown): error is SluiceError {
  return error instanceof SluiceError && (error.code === 'CIRCUIT_OPEN' || error.code === 'BULKHEAD_FULL');
}
