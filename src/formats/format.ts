/**
 * A codec between records and bytes, used by the connectors' `format:` option.
 * `decode` throws on input it cannot read (the connector turns that into a bad record,
 * see `ingest.ts`); `encode` throws on a value it cannot write.
 *
 * @example
 * const f = jsonFormat<{ id: number }>();
 * f.decode(f.encode({ id: 1 })); // { id: 1 }
 */
export interface Format<T> extends FormatHooks {
  /** A short name for `describe()` and errors ('json', 'avro', …). */
  readonly name: string;
  /** A record as the bytes of one message; throws on a value it cannot write, which fails the sink's step. */
  encode(value: T): Uint8Array;
  /** The record in the bytes of one message; throws on input it cannot read, which the source handles as a bad record. */
  decode(bytes: Uint8Array): T;
}

/**
 * The lifecycle of a {@link Format}, every hook optional. Connectors run it through
 * `FormatLifecycle` (`lifecycle.ts`): `open` once before the first encode or decode,
 * `prepare` before each batch is decoded, `close` once at the end.
 */
export interface FormatHooks {
  /**
   * Optional: asynchronous set-up before the first encode (registering a schema, say).
   * Connectors call it when their reader or writer opens.
   */
  open?(): Promise<void>;
  /**
   * Optional: asynchronous work before a batch is decoded (fetching the schemas the
   * messages name, say), so that `decode` itself stays synchronous. Connectors call it
   * with each batch of raw messages before decoding them; it must not throw for a bad
   * message (decode reports that one).
   */
  prepare?(messages: readonly Uint8Array[]): Promise<void>;
  /**
   * Optional: releases what `open` or `prepare` took (connections, timers). Connectors
   * call it when their reader or writer closes, once, and only after `open`.
   */
  close?(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A string from UTF-8 bytes; throws on malformed UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Bytes as a Node Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
