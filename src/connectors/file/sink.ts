import { open, type FileHandle } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import { SluiceError, describeRecord } from '../../errors/index.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';

/** Options of {@link jsonlFileSink} (and {@link fileSink}). */
export interface FileSinkOptions {
  /** Only JSON lines for now (the default). */
  format?: 'jsonl';
  /** Bytes the write stream buffers before it asks the pipeline to wait (default 64 KiB). */
  highWaterMark?: number;
}

/** The sink {@link jsonlFileSink} returns: appends JSON lines to one file, at-least-once. */
export interface FileSink<T> extends Sink<T> {
  readonly kind: 'file';
  /** The file, as given. */
  readonly path: string;
  describe(): string;
}

/**
 * Appends each record to a file as one line of JSON, through a buffered write stream.
 * A write returns a promise while the stream is over its buffer limit, which holds the
 * pipeline until the disk catches up (backpressure). `flush()` waits for every buffered
 * line to reach the file and fsyncs it; `close()` ends the stream.
 *
 * Delivery is at-least-once: the file is opened for appending, so a job restarted from a
 * checkpoint writes again the records produced after that checkpoint. Timestamps are not
 * written; map them into the record if you need them. A record that JSON cannot
 * represent (a bigint, undefined, a cycle) is BAD_RECORD.
 *
 * @example
 * job.source(orders, { uid: 'orders' }).filter((o) => o.amount > 100).sinkTo(jsonlFileSink('big-orders.jsonl'));
 */
export function jsonlFileSink<T>(path: string, opts: FileSinkOptions = {}): FileSink<T> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `jsonlFileSink: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if ((opts.format ?? 'jsonl') !== 'jsonl') {
    throw new SluiceError('INVALID_ARGUMENT', `fileSink: format must be 'jsonl', got ${JSON.stringify(opts.format)}`);
  }
  const highWaterMark = opts.highWaterMark ?? 64 * 1024;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `jsonlFileSink: highWaterMark must be a positive integer, got ${String(highWaterMark)}`);
  }
  return {
    kind: 'file',
    path,
    describe: () => `file ${path} (jsonl, append, at-least-once)`,
    createWriter: (ctx) => new JsonlWriter<T>(path, highWaterMark, ctx),
  };
}

/** {@link jsonlFileSink} under the name that matches `fileSource`. */
export const fileSink: <T>(path: string, opts?: FileSinkOptions) => FileSink<T> = jsonlFileSink;

class JsonlWriter<T> implements SinkWriter<T> {
  private handle: FileHandle | undefined;
  private stream: WriteStream | undefined;
  private error: unknown;

  constructor(
    private readonly path: string,
    private readonly highWaterMark: number,
    private readonly ctx: SinkContext,
  ) {}

  async open(): Promise<void> {
    if (this.stream) return;
    try {
      this.handle = await open(this.path, 'a');
    } catch (error) {
      throw this.failed('cannot open', error);
    }
    // The stream closes the handle when it ends or is destroyed.
    const stream = this.handle.createWriteStream({ highWaterMark: this.highWaterMark });
    stream.on('error', (error) => {
      this.error ??= error;
    });
    this.stream = stream;
  }

  write(values: T[]): void | Promise<void> {
    if (values.length === 0) return;
    if (!this.stream) return this.open().then(() => this.write(values));
    this.throwIfFailed();
    let text = '';
    for (const v of values) text += `${this.serialize(v)}\n`;
    if (this.stream.write(text)) return;
    return this.whenDrained();
  }

  async flush(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.throwIfFailed();
    // The callback of a write runs after every earlier write has reached the file.
    await new Promise<void>((resolve, reject) => stream.write('', (e) => (e ? reject(this.failed('cannot write to', e)) : resolve())));
    try {
      await this.handle!.sync();
    } catch (error) {
      throw this.failed('cannot fsync', error);
    }
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    if (!stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.end();
      });
    }
    if (this.handle && this.handle.fd !== -1) await this.handle.close().catch(() => {});
    this.throwIfFailed();
  }

  private whenDrained(): Promise<void> {
    const stream = this.stream!;
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (e: unknown): void => {
        stream.off('drain', onDrain);
        reject(this.failed('cannot write to', e));
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  }

  private serialize(v: T): string {
    let text: string | undefined;
    let problem: unknown;
    try {
      text = JSON.stringify(v);
    } catch (error) {
      problem = error;
    }
    if (typeof text === 'string') return text;
    throw new SluiceError('BAD_RECORD', `jsonlFileSink '${this.ctx.uid}': record ${describeRecord(v)} cannot be written as JSON`, {
      detail: problem instanceof Error ? problem.message : `JSON.stringify returned ${String(text)}`,
      hint: 'Map records to JSON values before this sink (a bigint to a string, undefined to null).',
      step: this.ctx.uid,
      cause: problem,
    });
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.failed('cannot write to', this.error);
  }

  private failed(what: string, error: unknown): SluiceError {
    return new SluiceError('SINK_FAILED', `jsonlFileSink '${this.ctx.uid}': ${what} ${this.path}`, {
      detail: error instanceof Error ? error.message : String(error),
      step: this.ctx.uid,
      cause: error,
    });
  }
}
