import { SluiceError, describeRecord } from '../../errors/index.js';
import type { SourceContext } from '../source.js';
import type { Format } from '../../formats/format.js';
import { FormatLifecycle } from '../../formats/lifecycle.js';

/**
 * What a source does with a message that fails to decode or validate:
 * - `'dead-letter'` (default): hand it to `ctx.badRecord(raw, error, position)`; the job's
 *   (or the step's) `onError` decides: a dead-letter record with the raw bytes, the error
 *   and the position, or a BAD_RECORD failure.
 * - `'fail'`: fail the job with BAD_RECORD, whatever the job's `onError` says.
 * - `'skip'`: drop it and count it in the source's `stats.skipped` (never silent: counted).
 */
export type BadRecordPolicy = 'fail' | 'dead-letter' | 'skip';

/** Counters a source keeps across its readers (restarts included). */
export interface IngestStats {
  /** Messages decoded into records. */
  decoded: number;
  /** Messages that failed to decode or validate, under any policy. */
  bad: number;
  /** Of those, dropped under `onBadRecord: 'skip'`. */
  skipped: number;
}

/**
 * Counters at zero, for a source to make once and share with all its readers (restarts
 * included) and a {@link Decoder}; the source shows them as its `stats`.
 */
export function newIngestStats(): IngestStats {
  return { decoded: 0, bad: 0, skipped: 0 };
}

/**
 * Checks a source's `onBadRecord` option when the source is built: returns it,
 * `'dead-letter'` when it is undefined, and throws INVALID_ARGUMENT naming `what` for
 * anything else.
 *
 * @example
 * const policy = checkBadRecordPolicy('mySource', options.onBadRecord); // 'dead-letter' when unset
 */
export function checkBadRecordPolicy(what: string, policy: unknown): BadRecordPolicy {
  if (policy === undefined) return 'dead-letter';
  if (policy !== 'fail' && policy !== 'dead-letter' && policy !== 'skip') {
    throw new SluiceError('INVALID_ARGUMENT', `${what}: onBadRecord must be 'fail', 'dead-letter' or 'skip', got ${JSON.stringify(policy)}`);
  }
  return policy;
}

/**
 * Decodes raw messages with a {@link Format}, applying a {@link BadRecordPolicy} to the
 * ones that fail, and runs the format's lifecycle ({@link FormatLifecycle}: open before
 * the first batch, prepare before each, close with `close()`). Shared by the
 * message-broker sources; a reader of a source of your own makes one in `createReader`
 * and closes it in its `close`.
 *
 * @example
 * const decoder = new Decoder(format, checkBadRecordPolicy('mySource', opts.onBadRecord), ctx, stats);
 * const { values, from } = await decoder.decode(messages, (i) => `${queue}@${firstOffset + i}`);
 * // from[j]: the index in `messages` that values[j] came from
 */
export class Decoder<T> {
  private readonly lifecycle: FormatLifecycle;

  constructor(
    private readonly format: Format<T>,
    private readonly policy: BadRecordPolicy,
    private readonly ctx: SourceContext,
    private readonly stats: IngestStats,
  ) {
    this.lifecycle = new FormatLifecycle(format);
  }

  /** Opens the format (before the first batch; `decode` does it too when not done yet). */
  open(): Promise<void> {
    return this.lifecycle.open();
  }

  /** Closes the format, if it was opened. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  /**
   * Decodes `raws` (after the format's `open`, the first time, and `prepare`), returning the good records and the
   * indexes they came from. `position(i)` names message i for errors and dead letters.
   */
  async decode(raws: readonly Uint8Array[], position: (i: number) => string): Promise<{ values: T[]; from: number[] }> {
    await this.lifecycle.prepare(raws);
    const values: T[] = [];
    const from: number[] = [];
    for (let i = 0; i < raws.length; i++) {
      let value: T;
      try {
        value = this.format.decode(raws[i]!);
      } catch (error) {
        this.bad(raws[i]!, error, position(i));
        continue;
      }
      values.push(value);
      from.push(i);
    }
    this.stats.decoded += values.length;
    return { values, from };
  }

  private bad(raw: Uint8Array, error: unknown, position: string): void {
    this.stats.bad++;
    if (this.policy === 'skip') {
      this.stats.skipped++;
      return;
    }
    if (this.policy === 'fail') {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SluiceError('BAD_RECORD', `step '${this.ctx.uid}': bad input at ${position}: ${reason}`, {
        step: this.ctx.uid,
        detail: `input: ${describeRecord(Buffer.from(raw).toString('utf8'))}`,
        hint: "This source has onBadRecord: 'fail'. Use 'dead-letter' to route bad input to job.deadLetters(), or 'skip' to count and drop it.",
        cause: error,
      });
    }
    this.ctx.badRecord(raw, error, position);
  }
}
