import protobuf from 'protobufjs';
import { SluiceError } from '../errors/index.js';
import type { Format } from './format.js';

/** Options of {@link protobufFormat}: the schema, and which of its message types a message is. */
export interface ProtobufFormatOptions {
  /** The `.proto` source text (proto2 or proto3). */
  proto: string;
  /** The fully qualified message type, e.g. `shop.Order`. */
  type: string;
}

/**
 * Protocol Buffers (protobufjs) for one message type of a `.proto` text. Decoded values
 * are plain objects (`longs` as numbers, enums as names, defaults filled in); `encode`
 * checks the value against the type first and throws on a mismatch.
 *
 * @example
 * const f = protobufFormat<{ id: number }>({ proto: 'syntax = "proto3"; message M { int32 id = 1; }', type: 'M' });
 */
export function protobufFormat<T extends object>(opts: ProtobufFormatOptions): Format<T> {
  let message: protobuf.Type;
  try {
    message = protobuf.parse(opts.proto, { keepCase: true }).root.lookupType(opts.type);
  } catch (e) {
    throw new SluiceError('INVALID_ARGUMENT', `protobufFormat: cannot use type '${opts.type}': ${(e as Error).message}`);
  }
  return {
    name: 'protobuf',
    encode: (value) => {
      const problem = message.verify(value as Record<string, unknown>);
      if (problem) throw new Error(`protobuf ${opts.type}: ${problem}`);
      return message.encode(message.fromObject(value as Record<string, unknown>)).finish();
    },
    decode: (bytes) => message.toObject(message.decode(bytes), { longs: Number, enums: String, defaults: true }) as T,
  };
}
