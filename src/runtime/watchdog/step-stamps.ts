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
 */

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

/** What a task's call is handling, as stamped in word {@link KIND}. */
export const WHAT = {
  batch: 0,
  watermark: 1,
  idle: 2,
  end: 3,
  timer: 4,
  open: 5,
  poll: 6,
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
    default:
      return 'a call';
  }
}

/** The words a task stamps: its own region of the attempt's buffer. */
export class StepStamp {
  private seq = 0;

  constructor(
    /** The attempt's words (a private array when the watchdog is off: the stores cost the same). */
    readonly words: Int32Array,
    /** Where this task's region starts: `node.id * WORDS_PER_TASK`. */
    readonly at: number,
  ) {}

  /** A synchronous call into step `step` of the chain starts, handling `kind` (`size` records). */
  enter(step: number, kind: number, size: number): void {
    const w = this.words;
    const at = this.at;
    w[at + STEP] = step;
    w[at + KIND] = kind;
    w[at + SIZE] = size;
    w[at + SEQ] = ++this.seq;
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
