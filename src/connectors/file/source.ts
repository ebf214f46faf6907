import { open, type FileHandle } from 'node:fs/promises';
import { SluiceError } from '../../errors/index.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import { wait } from '../shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { csvParser, jsonlParser, type CsvOptions, type LineParser } from './line-format.js';
import { LineSplitter, type Line } from './line-splitter.js';

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** `jsonl`: one JSON document per line; `csv`: comma-separated values (see `csv`). */
  format: 'jsonl' | 'csv';
  /** Keep reading as the file grows, like `tail -f` (the source is then unbounded). */
  follow?: boolean;
  /** How often a following reader looks for growth at the end of the file (default 200 ms). */
  pollInterval?: Duration;
  /** How CSV lines become records (header, columns, delimiter, casts), for `format: 'csv'`. */
  csv?: CsvOptions;
  /** Bytes read at a time (default 64 KiB). */
  chunkSize?: number;
}

/** A file reader; `position()` is the byte offset just after the last line handed out. */
export interface FileSourceReader<T> extends SourceReader<T> {
  /** The byte offset just after the last line handed out: where a restored reader starts. */
  position(): { offset: number };
  /** How many times a following reader found the file truncated and started over. */
  readonly truncations: number;
}

/** The source {@link fileSource} returns: replayable by byte offset; bounded unless it follows the file. */
export interface FileSource<T> extends Source<T> {
  readonly kind: 'file';
  /** The file, as given. */
  readonly path: string;
  describe(): string;
  createReader(ctx: SourceContext): FileSourceReader<T>;
}

const DEFAULT_CHUNK = 64 * 1024;

/**
 * Reads records from a file of JSON lines or CSV, in chunks (never the whole file at
 * once), splitting lines itself and keeping the byte offset of the last line handed out.
 *
 * - By default the read is bounded: it ends at the end of the file, and an unterminated
 *   last line counts as a line.
 * - With `follow: true` it tails the file like `tail -f`: at the end it waits
 *   (`pollInterval`, through `ctx.clock`) for the file to grow; a last line without its
 *   newline waits for it. When the file shrinks below the offset read so far
 *   (truncation, as by `> file` or log rotation with copytruncate) the reader starts
 *   over from byte 0 and says so with a `SLUICE_FILE_TRUNCATED` process warning. A file
 *   truncated and regrown past the old offset between two looks cannot be told from
 *   growth (as with `tail -f`). A file renamed away is followed by its descriptor, not
 *   its name.
 *
 * Empty lines are skipped. A line that does not parse goes to `ctx.badRecord(line,
 * error, 'path:line')`: under the job's `fail` policy that throws and fails the job,
 * under `dead-letter` the reader carries on. A missing or unreadable file is
 * SOURCE_FAILED. A file is one split: read it with parallelism 1.
 *
 * @example
 * const orders = fileSource<{ id: string; amount: number }>('orders.jsonl', { format: 'jsonl' });
 * const prices = fileSource('prices.csv', { format: 'csv', csv: { cast: true } }); // { sku: 'a1', price: 9.5 }
 * const access = fileSource('/var/log/app.jsonl', { format: 'jsonl', follow: true, pollInterval: '1s' });
 */
export function fileSource<T = unknown>(path: string, opts: FileSourceOptions): FileSource<T> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `fileSource: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if (opts == null || (opts.format !== 'jsonl' && opts.format !== 'csv')) {
    throw new SluiceError('INVALID_ARGUMENT', `fileSource: format must be 'jsonl' or 'csv', got ${JSON.stringify(opts?.format)}`);
  }
  const follow = opts.follow ?? false;
  const pollIntervalMs = toPositiveMillis(opts.pollInterval ?? 200, 'fileSource: pollInterval');
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `fileSource: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  // Validate CSV options now, so a bad job definition fails when it is built.
  if (opts.format === 'csv') csvParser(opts.csv);

  return {
    kind: 'file',
    path,
    bounded: !follow,
    replayable: true,
    describe: () => `file ${path} (${opts.format}${follow ? `, following every ${pollIntervalMs} ms` : ''})`,
    createReader: (ctx) =>
      new FileReader<T>(path, opts.format === 'csv' ? csvParser(opts.csv) : jsonlParser(), follow, pollIntervalMs, chunkSize, ctx, opts.format === 'csv' && (opts.csv?.header ?? true)),
  };
}

class FileReader<T> implements FileSourceReader<T> {
  private handle: FileHandle | undefined;
  private readonly lines = new LineSplitter();
  /** Byte offset of the next read. */
  private readAt = 0;
  private ended = false;
  /** Following: clock time of the next look for growth at the end of the file. */
  private nextLookAt = Number.NEGATIVE_INFINITY;
  truncations = 0;

  constructor(
    private readonly path: string,
    private readonly parse: LineParser,
    private readonly follow: boolean,
    private readonly pollIntervalMs: number,
    private readonly chunkSize: number,
    private readonly ctx: SourceContext,
    /** CSV with a header line: after a restore, the header is read again to learn the columns. */
    private readonly hasHeader = false,
  ) {}

  async open(): Promise<void> {
    if (this.handle) return;
    try {
      this.handle = await open(this.path, 'r');
      await this.seekRestored();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : 'it could not be opened';
      throw new SluiceError('SOURCE_FAILED', `fileSource: cannot read ${this.path}: ${why}`, {
        detail: error instanceof Error ? error.message : String(error),
        hint: code === 'ENOENT' ? 'Check the path (relative paths start from the working directory) or create the file first.' : undefined,
        step: this.ctx.uid,
        cause: error,
      });
    }
  }

  position(): { offset: number } {
    return { offset: this.lines.offset };
  }

  /** What a checkpoint keeps: the byte offset after the last line handed out, and its line number. */
  snapshotPosition(): { offset: number; line: number } {
    return { offset: this.lines.offset, line: this.lines.lineNumber };
  }

  /** Starts after a checkpointed position (re-reading a CSV header first). */
  private async seekRestored(): Promise<void> {
    const restored = this.ctx.restoredPosition as { offset: number; line?: number } | undefined;
    if (!restored || restored.offset <= 0) return;
    if (this.hasHeader) {
      const head = Buffer.alloc(Math.min(this.chunkSize, 1 << 16));
      const { bytesRead } = await this.handle!.read(head, 0, head.length, 0);
      const text = head.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
      const first = text.split(/\r?\n/).find((l) => l.trim().length > 0);
      if (first !== undefined) this.parse(first);
    }
    this.readAt = restored.offset;
    this.lines.reset(restored.offset, restored.line);
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.ended) return { values: [], done: true };
    if (!this.handle) await this.open();
    const values: T[] = [];
    const max = Math.max(1, this.ctx.maxBatchSize);
    const clock = this.ctx.clock;
    let waited = false;
    while (values.length < max) {
      const line = this.lines.next();
      if (line) {
        this.accept(line, values);
        continue;
      }
      if (this.follow && clock.now() < this.nextLookAt) {
        // Following, at the end, and not yet time for another look: hand out what we
        // have, or wait once (never longer than maxPollWaitMs) and look again if due.
        if (values.length > 0 || waited || this.ctx.signal.aborted) break;
        waited = true;
        const ms = Math.min(this.nextLookAt - clock.now(), Math.max(0, this.ctx.maxPollWaitMs));
        if ((await wait(clock, ms, this.ctx.signal)) === 'aborted') break;
        continue;
      }
      if ((await this.readChunk()) > 0) continue;
      // At the end of the file.
      if (!this.follow) {
        const rest = this.lines.takeRest();
        if (rest) this.accept(rest, values);
        this.ended = true;
        return { values, done: true };
      }
      // A last line without its newline stays in the splitter until the newline comes.
      if (await this.restartIfTruncated()) continue;
      this.nextLookAt = clock.now() + this.pollIntervalMs;
    }
    return { values };
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.ended = true;
    await h?.close();
  }

  /** Parses one line into `values`, skipping empty lines and reporting bad ones. */
  private accept(line: Line, values: T[]): void {
    if (line.text.trim().length === 0) return;
    let parsed: { value: unknown } | undefined;
    try {
      parsed = this.parse(line.text);
    } catch (error) {
      // Under the `fail` policy badRecord throws: that is meant to end the job.
      this.ctx.badRecord(line.text, error, `${this.path}:${line.number}`);
      return;
    }
    if (parsed) values.push(parsed.value as T);
  }

  private async readChunk(): Promise<number> {
    const buffer = Buffer.allocUnsafe(this.chunkSize);
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.handle!.read(buffer, 0, this.chunkSize, this.readAt));
    } catch (error) {
      throw this.failed('reading', error);
    }
    if (bytesRead > 0) {
      this.lines.push(buffer.subarray(0, bytesRead));
      this.readAt += bytesRead;
    }
    return bytesRead;
  }

  /** Starts over from byte 0 when the file is now shorter than what was read; says whether it did. */
  private async restartIfTruncated(): Promise<boolean> {
    let size: number;
    try {
      size = (await this.handle!.stat()).size;
    } catch (error) {
      throw this.failed('checking the size of', error);
    }
    if (size >= this.readAt) return false;
    process.emitWarning(
      `fileSource '${this.ctx.uid}': ${this.path} shrank to ${size} bytes after ${this.readAt} had been read (truncated); reading it again from the start`,
      { code: 'SLUICE_FILE_TRUNCATED' },
    );
    this.truncations++;
    this.lines.reset(0);
    this.readAt = 0;
    return true;
  }

  private failed(doing: string, error: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `fileSource: failed ${doing} ${this.path}`, {
      detail: error instanceof Error ? error.message : String(error),
      step: this.ctx.uid,
      cause: error,
    });
  }
}
