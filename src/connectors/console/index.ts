import { inspect } from 'node:util';
import { SluiceError } from '../../errors/index.js';
import type { Sink, SinkWriter } from '../sink.js';

/** Options of {@link consoleSink}. */
export interface ConsoleSinkOptions<T> {
  /** Renders one record (its timestamp is NaN when it has none). Default: strings as they are, other values as JSON. */
  format?: (value: T, timestamp: number) => string;
  /** Where lines go (default `process.stdout`). Never ended by the sink. */
  stream?: NodeJS.WritableStream;
  /** A label written before each line as `label> `, like Flink's `print('label')`. */
  prefix?: string;
}

/** The sink {@link consoleSink} returns: one writer, at-least-once. */
export interface ConsoleSink<T> extends Sink<T> {
  readonly kind: 'console';
  describe(): string;
}

/**
 * Prints each record on its own line: what `DataStream.print()` uses. A batch is written
 * in one call; when the stream is over its buffer limit the write returns a promise, so a
 * slow terminal or pipe slows the job rather than filling memory. Delivery is
 * at-least-once and nothing is kept.
 *
 * @example
 * stream.sinkTo(consoleSink({ prefix: 'alerts' })); // alerts> {"user":"a","score":0.97}
 * stream.sinkTo(consoleSink({ format: (o, ts) => `${new Date(ts).toISOString()} ${o.id}` }));
 */
export function consoleSink<T>(opts: ConsoleSinkOptions<T> = {}): ConsoleSink<T> {
  if (opts.format !== undefined && typeof opts.format !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'consoleSink: format must be a function (value, timestamp) => string');
  }
  const format = opts.format ?? defaultFormat;
  const label = opts.prefix === undefined || opts.prefix === '' ? '' : `${opts.prefix}> `;
  return {
    kind: 'console',
    describe: () => `console (${opts.stream ? 'a stream' : 'stdout'}${label ? `, prefix '${opts.prefix}'` : ''})`,
    createWriter(): SinkWriter<T> {
      const stream = opts.stream ?? process.stdout;
      return {
        write(values, timestamps) {
          if (values.length === 0) return;
          let text = '';
          for (let i = 0; i < values.length; i++) text += `${label}${format(values[i]!, timestamps[i] ?? Number.NaN)}\n`;
          if (stream.write(text)) return;
          return new Promise<void>((resolve) => stream.once('drain', resolve));
        },
        async close() {},
      };
    },
  };
}

/** Strings as they are; other values as JSON (bigints as `12n`), or as `util.inspect` shows them when JSON cannot. */
export function defaultFormat(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    if (typeof json === 'string') return json;
  } catch {
    // a cycle: fall through
  }
  return inspect(value, { depth: 6, breakLength: Number.POSITIVE_INFINITY });
}
