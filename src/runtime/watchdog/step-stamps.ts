/**
 * What the watchdog reads of each task, without a clock: a few Int32 words per task in
 * one buffer per attempt (a SharedArrayBuffer when the watchdog is on, shared with the
 * worker threads of a parallel run). A task stamps the start and the end of each
 * synchronous call into its steps (a batch of records, a watermark, a timer, `open()`,
 * a source's `poll()`): the sequence word is odd while it is inside one. The watchdog
 * thread (`watchdog-thread.ts`) samples the words on its own clock; a sequence that stays
 * at one odd value for `stuckAfter` is a step that has not returned.
 *
 * Cost: four Int32 stores when a call starts, one when it ends, two per step a batch is
 * handed to in a chain (`ChainedOutput`): per batch, not per record, and no clock read
 * (see the commit that added it for the bench figures).
 *
 * When the watchdog is on, the buffer also holds {@link PREVIEW_BYTES} bytes per task after
 * the words: a bounded preview of the first record of the batch the task is handling, as
 * it entered the task's chain (`preview.ts`), written per input batch, so that the log line
 * of a stuck step can show the record while its thread is blocked. A preview costs about
 * what `JSON.stringify` of a small record does (0.5 µs for three fields on the development
 * machine), once per batch: not per record, and not per chained step; a generator → map job
 * showed no difference at batches of 1,024 and 10-15 ns a record at batches of 64. To name
 * the very record of a batch of several, the next attempt hands
 * a task that was stuck its records one at a time until a checkpoint completes
 * (`Task.diagnosing`).
 */
import { previewRecord } from './preview.js';

/** Int32 words per task: a cache line (64 bytes), so that tasks of two threads never write one line. */
export const WORDS_PER_TASK = 16;
/** Odd while the task is inside a call, even between calls; one more at every start and end. */
export const SEQ = 0;
/** The position in the task's chain of the step being called (`chain.nodes` order). */
export const STEP = 1;
/** What the call is handling: one of {@link WHAT}. */
export const KIND = 2;
/** The records in the batch being handled (0 for other calls). */
export const SIZE = 3;
/** The UTF-8 bytes of the record preview in the task's preview region (0: none). */
export const PREVIEW_LENGTH = 4;
/** Bytes of preview per task, after all the tasks' words in the buffer. */
export const PREVIEW_BYTES = 256;
/** Characters of a record preview (at most 3 UTF-8 bytes each fit {@link PREVIEW_BYTES}). */
const PREVIEW_CHARS = 80;

/** The watched buffer of an attempt of `tasks` tasks: their words, then their previews. */
export function stampBuffer(tasks: number): SharedArrayBuffer {
  return new SharedArrayBuffer(tasks * (WORDS_PER_TASK * 4 + PREVIEW_BYTES));
}

/** The words of a buffer from {@link stampBuffer} (the previews follow them). */
export function stampWords(buffer: SharedArrayBuffer, tasks: number): Int32Array {
  return new Int32Array(buffer, 0, tasks * WORDS_PER_TASK);
}

const encoder = new TextEncoder();

/** What a task's call is handling, as stamped in word {@link KIND}. */
export const WHAT = {
  batch: 0,
  watermark: 1,
  idle: 2,
  end: 3,
  timer: 4,
  open: 5,
  poll: 6,
  completion: 7,
} as const;

/** How a log line says what the stuck call was handling, by {@link WHAT} value. */
export function describeCall(kind: number, size: number): string {
  switch (kind) {
    case WHAT.batch:
      return `a batch of ${size} record${size === 1 ? '' : 's'}`;
    case WHAT.watermark:
      return 'a watermark';
    case WHAT.idle:
      return 'a change of idleness';
    case WHAT.end:
      return 'the end of its input';
    case WHAT.timer:
      return 'a processing-time timer';
    case WHAT.open:
      return 'open()';
    case WHAT.poll:
      return "the source reader's poll()";
    case WHAT.completion:
      return 'the result of an async call';
    default:
      return 'a call';
  }
}

/** The words a task stamps: its own region of the attempt's buffer. */
export class StepStamp {
  private seq = 0;
  /** The task's preview bytes; undefined when the watchdog is off (no preview is made). */
  private readonly previewBytes: Uint8Array | undefined;

  constructor(
    /** The attempt's words (a private array when the watchdog is off: the stores cost the same). */
    readonly words: Int32Array,
    /** Where this task's region starts: `node.id * WORDS_PER_TASK`. */
    readonly at: number,
  ) {
    const buffer = words.buffer;
    const previewsAt = words.byteOffset + words.byteLength;
    if (buffer instanceof SharedArrayBuffer && buffer.byteLength > previewsAt) {
      this.previewBytes = new Uint8Array(buffer, previewsAt + (at / WORDS_PER_TASK) * PREVIEW_BYTES, PREVIEW_BYTES);
    }
  }

  /** Writes a preview of `values[0]`, the first record of the batch the task is handling (when the watchdog is on). */
  preview(values: readonly unknown[]): void {
    const bytes = this.previewBytes;
    if (bytes === undefined) return;
    this.words[this.at + PREVIEW_LENGTH] = values.length === 0 ? 0 : encoder.encodeInto(previewRecord(values[0], PREVIEW_CHARS), bytes).written;
  }

  /** A synchronous call into step `step` of the chain starts, handling `kind` (`size` records). */
  enter(step: number, kind: number, size: number): void {
    const w = this.words;
    const at = this.at;
    w[at + STEP] = step;
    w[at + KIND] = kind;
    w[at + SIZE] = size;
    w[at + PREVIEW_LENGTH] = 0;
    w[at + SEQ] = ++this.seq;
  }

  /** A call into step `step` with a batch of `values` starts (with a preview of its first record, when watched). */
  enterBatch(step: number, values: readonly unknown[]): void {
    this.enter(step, WHAT.batch, values.length);
    this.preview(values);
  }

  /** The call has returned. */
  leave(): void {
    this.words[this.at + SEQ] = ++this.seq;
  }

  /** After a call that threw (the task ends): no longer inside it. */
  reset(): void {
    if ((this.seq & 1) === 1) this.leave();
  }
}

/** Stamps for a task when the watchdog is off: a private region, same stores. */
export function unwatchedStamp(): StepStamp {
  return new StepStamp(new Int32Array(WORDS_PER_TASK), 0);
}
