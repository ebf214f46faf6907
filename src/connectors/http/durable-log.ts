import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../../errors/index.js';
import type { Clock } from '../../time/clock.js';

export interface DurableLogOptions {
  /** The clock of the backoff after a failed write. */
  clock: Clock;
  /** The wait after a failed write before the disk is tried again (default 100 ms); it doubles with each failure in a row. */
  backoffMs?: number;
  /** The longest such wait (default 5 s). */
  maxBackoffMs?: number;
}

/** What `open()` cut off the end of the log. */
export interface TornTail {
  /** Where the torn record began (an offset of the log): the log's length now. */
  readonly offset: number;
  /** How many bytes were cut. */
  readonly bytes: number;
  readonly reason: 'no newline' | 'does not parse';
  /** The start of the cut bytes, for the warning. */
  readonly preview: string;
}

interface Pending {
  text: string;
  resolve: (end: number) => void;
  reject: (e: unknown) => void;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An append-only log of accepted records (one JSON line each) under `dir`: the HTTP
 * source writes a request's records here, and fsyncs, before it answers 2xx, so an
 * acknowledged record survives a crash. A record's position is the log's offset just after
 * its line: offsets only grow, across compactions and restarts alike, so a position a
 * checkpoint holds never names other records.
 *
 * - Files: `ingest.log` holds the log from offset 0; after a compaction, `ingest-<base>.log`
 *   holds it from offset `base` (the file with the highest base is the log; an older one
 *   left by a crash is removed on open).
 * - Compaction ({@link DurableLog.compactThrough}) happens only once a completed
 *   checkpoint covers every record in the log (the source calls it when a checkpoint is
 *   committed, never at a barrier): a new, empty file from the log's length on, then the
 *   old one is removed. A checkpoint restored later resumes after its position: what lay
 *   before a compaction is committed output.
 *
 * - Group commit: appends that arrive while a write and its fsync are in flight are
 *   written together, with one fsync, as soon as it ends.
 * - A failed write (a full disk, a short write, an I/O error, a failed fsync) rejects every
 *   append of its group, with STORAGE_FULL or INGEST_LOG_FAILED, and never resolves one:
 *   the log's length (`end`) only moves when a whole group is on disk. What the failed
 *   write left in the file is truncated away at once, and, should that fail too, before
 *   the next write (which fails while it cannot). Then, for a while (100 ms doubling to 5 s
 *   while failures go on), appends are refused without touching the disk: a full disk does
 *   not make the source spin.
 * - `open()` truncates a torn tail (a last line without its newline, or one that does not
 *   parse: a crash in the middle of a write) and says what it cut.
 *
 * Under steady traffic the log holds records beyond every completed checkpoint, so it is
 * compacted only when input pauses (or after stop()); it grows meanwhile.
 */
export class DurableLog {
  private fh: FileHandle | undefined;
  /** The log's offset of the active file's first byte (0 until the first compaction). */
  private base = 0;
  /** The length of what is whole and on disk in the active file: appends are written from here. */
  private end = 0;
  /** The active file. */
  private file: string;
  /** Bytes of a failed write may lie past `end`: truncate them before writing again. */
  private dirty = false;
  private pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private failuresInRow = 0;
  private refuseUntil = 0;
  private lastFailure: SluiceError | undefined;
  private syncCount = 0;
  private readonly clock: Clock;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    readonly dir: string,
    opts: DurableLogOptions,
  ) {
    this.file = join(dir, 'ingest.log');
    this.clock = opts.clock;
    this.backoffMs = opts.backoffMs ?? 100;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  }

  /** How many fsyncs the log made: with group commit, far fewer than appends under load. */
  get syncs(): number {
    return this.syncCount;
  }

  /** The file that holds the log now (`ingest.log`, or `ingest-<base>.log` after a compaction). */
  get path(): string {
    return this.file;
  }

  /** The log's length (an offset): every record before it is whole and on disk. */
  get length(): number {
    return this.base + this.end;
  }

  /** The offset the log's file starts at: records before it were compacted away. */
  get start(): number {
    return this.base;
  }

  /** How long appends are still refused after a failed write (0 when they are taken). */
  backoffRemainingMs(): number {
    return Math.max(0, this.refuseUntil - this.clock.now());
  }

  /** Opens (or creates) the log; cuts a torn tail off and says what it cut. */
  async open(): Promise<TornTail | undefined> {
    await mkdir(this.dir, { recursive: true });
    const files = (await readdir(this.dir)).flatMap((name) => {
      const m = /^ingest(?:-(\d+))?\.log$/.exec(name);
      return m ? [{ name, base: Number(m[1] ?? 0) }] : [];
    });
    files.sort((a, b) => b.base - a.base);
    // A crash after a compaction's new file was made, before the old one was removed: the
    // old one's records are all committed.
    for (const old of files.slice(1)) await unlink(join(this.dir, old.name));
    if (files.length > 1) await syncDirectory(this.dir);
    this.base = files[0]?.base ?? 0;
    this.file = join(this.dir, files[0]?.name ?? 'ingest.log');
    const fh = await open(this.file, constants.O_RDWR | constants.O_CREAT, 0o644);
    this.fh = fh;
    const size = (await fh.stat()).size;
    const torn = await tornTail(fh, size);
    this.end = torn ? torn.offset : size;
    if (torn) {
      await fh.truncate(this.end);
      await fh.sync();
    }
    if (size === 0) await syncDirectory(this.dir); // a new file's name survives a crash too
    return torn && { ...torn, offset: this.base + torn.offset };
  }

  /**
   * Appends lines; resolves with the offset after the last one once they are on disk
   * (written and fsynced). Rejects, with none of them counted in the log, when they could
   * not be: STORAGE_FULL on a full disk, INGEST_LOG_FAILED otherwise.
   */
  append(lines: readonly string[]): Promise<number> {
    if (this.closed || !this.fh) return Promise.reject(new SluiceError('INGEST_LOG_FAILED', `the durable log ${this.file} is closed`));
    const wait = this.backoffRemainingMs();
    if (wait > 0) return Promise.reject(this.backingOff(wait));
    return new Promise((resolve, reject) => {
      this.pending.push({ text: `${lines.join('\n')}\n`, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      // Everything that arrived while the previous group was written: one write, one fsync.
      const group = this.pending.splice(0);
      const wait = this.backoffRemainingMs();
      if (wait > 0) {
        const e = this.backingOff(wait);
        for (const g of group) g.reject(e);
        continue;
      }
      const bytes = Buffer.from(group.map((g) => g.text).join(''));
      try {
        if (this.dirty) await this.truncateToEnd();
        await this.writeAll(bytes);
        await this.fh!.sync();
        this.syncCount++;
      } catch (error) {
        const e = this.failed(error);
        this.dirty = true;
        // Cut what reached the file, now; if even that fails, the next group tries first.
        await this.truncateToEnd().catch(() => {});
        for (const g of group) g.reject(e);
        continue;
      }
      this.failuresInRow = 0;
      let at = this.end;
      for (const g of group) {
        at += Buffer.byteLength(g.text);
        g.resolve(this.base + at);
      }
      this.end = at;
    }
    this.writing = undefined;
  }

  /** Writes all of `bytes` at `end`: a short write goes on from where it stopped (and fails with the disk's error). */
  private async writeAll(bytes: Buffer): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh!.write(bytes, done, bytes.length - done, this.end + done);
      if (bytesWritten === 0) throw new Error(`short write: ${done} of ${bytes.length} bytes written, then none`);
      done += bytesWritten;
    }
  }

  private async truncateToEnd(): Promise<void> {
    await this.fh!.truncate(this.end);
    await this.fh!.sync();
    this.dirty = false;
  }

  /** The error of a failed write; starts (or lengthens) the backoff. */
  private failed(error: unknown): SluiceError {
    const code = (error as NodeJS.ErrnoException).code;
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    this.failuresInRow++;
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (this.failuresInRow - 1));
    this.refuseUntil = this.clock.now() + backoff;
    const detail = error instanceof Error ? error.message : String(error);
    this.lastFailure = full
      ? new SluiceError('STORAGE_FULL', `the disk of the durable log ${this.file} is full: nothing of the request was accepted`, { detail, cause: error })
      : new SluiceError('INGEST_LOG_FAILED', `could not write the durable log ${this.file}: nothing of the request was accepted`, { detail, cause: error });
    return this.lastFailure;
  }

  private backingOff(waitMs: number): SluiceError {
    const last = this.lastFailure!;
    return new SluiceError(last.code, `the durable log ${this.file} failed to write and waits ${waitMs} ms before it tries again: nothing of the request was accepted`, {
      detail: last.detail,
    });
  }

  /**
   * The lines after `offset`, each with the offset after it (replay after a restart). An
   * offset before the log's {@link start} (compacted away) reads from the start.
   */
  async readFrom(offset: number): Promise<Array<{ line: string; end: number }>> {
    const buf = await readFile(this.file);
    const out: Array<{ line: string; end: number }> = [];
    const from = Math.max(0, offset - this.base);
    let start = from;
    for (let i = from; i < Math.min(buf.length, this.end); i++) {
      if (buf[i] === 0x0a) {
        out.push({ line: buf.toString('utf8', start, i), end: this.base + i + 1 });
        start = i + 1;
      }
    }
    return out;
  }

  /**
   * Empties the log when it holds nothing after `offset`, the position of a checkpoint that
   * has completed (its records are committed): a new file from the log's length on, made
   * durable before the old one is removed, so a crash at any point leaves either. Resolves
   * whether it did; records appended after `offset` (or in flight) keep the log as it is.
   * Rejects when the new file cannot be made (the log is left as it was). Never call it
   * with the position of a checkpoint that is only written, not complete.
   */
  async compactThrough(offset: number): Promise<boolean> {
    while (this.writing) await this.writing;
    if (this.closed || !this.fh || this.dirty || this.end === 0 || this.base + this.end !== offset || this.pending.length > 0) return false;
    let done!: () => void;
    this.writing = new Promise<void>((resolve) => (done = resolve)); // appends wait meanwhile
    const old = { fh: this.fh, file: this.file };
    const base = this.base + this.end;
    const file = join(this.dir, `ingest-${base}.log`);
    try {
      const fh = await open(file, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o644);
      try {
        await fh.sync();
        await syncDirectory(this.dir); // from here on, the new (empty) file is the log
      } catch (e) {
        await fh.close();
        await unlink(file).catch(() => {});
        throw e;
      }
      this.fh = fh;
      this.file = file;
      this.base = base;
      this.end = 0;
      await old.fh.close().catch(() => {});
      await unlink(old.file).catch(() => {}); // an old file left is removed by the next open
      await syncDirectory(this.dir).catch(() => {});
      return true;
    } finally {
      this.writing = undefined;
      done();
      if (this.pending.length > 0) this.writing = this.drain();
    }
  }

  /** Waits for the writes in flight (their requests are answered), then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

/** The torn record at the end of a log of `size` bytes, if any (see {@link DurableLog.open}). */
async function tornTail(fh: FileHandle, size: number): Promise<TornTail | undefined> {
  if (size === 0) return undefined;
  const lastNewline = await lastIndexOfNewline(fh, size);
  if (lastNewline < size - 1) {
    // A record's newline is its last byte: without one, the write was cut.
    return { offset: lastNewline + 1, bytes: size - lastNewline - 1, reason: 'no newline', preview: await preview(fh, lastNewline + 1, size) };
  }
  const start = (await lastIndexOfNewline(fh, lastNewline)) + 1;
  const line = Buffer.alloc(lastNewline - start);
  await fh.read(line, 0, line.length, start);
  try {
    JSON.parse(strictUtf8.decode(line));
    return undefined;
  } catch {
    // Whole in length but not in content (blocks that never reached the disk read as zeros).
    return { offset: start, bytes: size - start, reason: 'does not parse', preview: await preview(fh, start, size) };
  }
}

/** The offset of the last newline before `before`, or -1; reads backwards in chunks. */
async function lastIndexOfNewline(fh: FileHandle, before: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  let to = before;
  while (to > 0) {
    const from = Math.max(0, to - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, to - from, from);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (at >= 0) return from + at;
    to = from;
  }
  return -1;
}

async function preview(fh: FileHandle, from: number, to: number): Promise<string> {
  const buf = Buffer.alloc(Math.min(120, to - from));
  await fh.read(buf, 0, buf.length, from);
  return JSON.stringify(buf.toString('utf8')) + (to - from > buf.length ? ` … (${to - from} bytes)` : '');
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
