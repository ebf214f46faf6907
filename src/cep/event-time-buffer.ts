import type { OutputTag } from '../core/output-tag.js';
import { SluiceError, describeRecord } from '../errors/index.js';
import { hasTimestamp } from '../runtime/batch.js';
import type { KeyedScope } from '../runtime/operators/keyed-scope.js';
import type { Key, MapState } from '../state/types.js';

/**
 * The event-time buffer of a CEP operator (the static one and the dynamic one): events of
 * the current key wait, by timestamp, until the watermark passes them, so that patterns
 * see them in timestamp order, as Flink CEP sorts them.
 */
export class EventTimeBuffer<T, K extends Key> {
  /** Late events dropped (no late output). */
  lateDropped = 0;
  /** Late events sent to the late output. */
  lateToSideOutput = 0;

  constructor(
    private readonly buffer: MapState<number, T[]>,
    private readonly scope: KeyedScope<K, unknown>,
    private readonly uid: string,
    private readonly lateTag: OutputTag<T> | undefined,
  ) {}

  /** Keeps the event until the watermark passes its timestamp, or sends it to the late output. */
  add(v: T, ts: number): void {
    if (!hasTimestamp(ts)) {
      throw new SluiceError('NO_TIMESTAMP', `step '${this.uid}': an event-time pattern got an event without timestamp: ${describeRecord(v)}`, {
        step: this.uid,
        hint: 'Assign timestamps and watermarks before the pattern, or match in processing time with inProcessingTime().',
      });
    }
    if (ts <= this.scope.watermark) {
      if (this.lateTag) {
        this.lateToSideOutput++;
        this.scope.collector.side(this.lateTag, v);
      } else {
        this.lateDropped++;
      }
      return;
    }
    const waiting = this.buffer.get(ts);
    if (waiting) waiting.push(v);
    this.buffer.put(ts, waiting ?? [v]);
    // Flink's way: one timer per key at the next watermark, a time all keys share (cheap to keep).
    const w = this.scope.watermark;
    this.scope.registerEventTimeTimer(Number.isFinite(w) ? w + 1 : Number.MIN_SAFE_INTEGER, undefined);
  }

  /** The current key's events the watermark has passed, by timestamp, taken out of the buffer; a timer stays for the rest. */
  takeDue(): Array<[number, T[]]> {
    const watermark = this.scope.watermark;
    const waiting = this.buffer.keys();
    const due = waiting.filter((t) => t <= watermark).sort((a, b) => a - b);
    const batches: Array<[number, T[]]> = [];
    for (const t of due) {
      batches.push([t, this.buffer.get(t) ?? []]);
      this.buffer.remove(t);
    }
    if (due.length < waiting.length) this.scope.registerEventTimeTimer(Math.min(...waiting.filter((t) => t > watermark)), undefined);
    return batches;
  }
}
