import { SluiceError } from '../../errors/index.js';
import type { FormatHooks } from '../../formats/format.js';

/**
 * How record values are turned into bytes and back. `'json'` (the default) is one JSON
 * document per record; `'string'` is UTF-8 text; `'bytes'` passes Buffers through; an
 * object gives both directions of a custom codec: any `Format` of `sluice/formats`
 * (Avro, Protobuf, MessagePack, the Confluent wire format, …), whose `open`, `prepare`
 * and `close` the source and sink call (see `FormatLifecycle`).
 *
 * @example
 * kafkaSource<Click>({ brokers, topic: 'clicks', groupId: 'g', format: 'json' });
 * kafkaSink<string>({ brokers, topic: 'lines', format: 'string' });
 * kafkaSink<Order>({ brokers, topic: 'orders', format: confluentAvroFormat({ registry, subject: 'orders-value', schema }) });
 */
export type KafkaFormat<T> = 'json' | 'string' | 'bytes' | KafkaCodec<T>;

/**
 * A custom {@link KafkaFormat}: both directions between records and Kafka record values,
 * and optionally the lifecycle hooks of a `Format` (open, prepare, close).
 */
export interface KafkaCodec<T> extends FormatHooks {
  /** Turns a record's value into a record; throwing makes the record a bad record (dead-lettered or failing the job). */
  decode(bytes: Buffer): T;
  /** Turns a record into a Kafka record's value; throwing fails the job with BAD_RECORD. */
  encode(value: T): Uint8Array;
}

/** The codec a format stands for; rejects an unknown name at once. */
export function codecOf<T>(format: KafkaFormat<T> | undefined, where: string): KafkaCodec<T> {
  switch (format ?? 'json') {
    case 'json':
      return {
        decode: (b) => JSON.parse(b.toString('utf8')) as T,
        encode: (v) => {
          const s = JSON.stringify(v);
          if (s === undefined) throw new Error(`${String(v)} cannot be written as JSON`);
          return Buffer.from(s, 'utf8');
        },
      };
    case 'string':
      return { decode: (b) => b.toString('utf8') as T, encode: (v) => Buffer.from(String(v), 'utf8') };
    case 'bytes':
      return {
        decode: (b) => b as T,
        encode: (v) => {
          if (!(v instanceof Uint8Array)) throw new Error(`format 'bytes' takes Buffers or Uint8Arrays, not ${typeof v}`);
          return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        },
      };
    default:
      if (typeof format === 'object' && typeof format.decode === 'function' && typeof format.encode === 'function') return format;
      throw new SluiceError('INVALID_ARGUMENT', `${where}: format must be 'json', 'string', 'bytes' or { decode, encode }, not ${JSON.stringify(format)}`);
  }
}

/** Broker addresses as the client takes them ('host:port'). */
export function brokerList(brokers: string | readonly string[], where: string): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter(Boolean);
  if (list.length === 0 || list.some((b) => !/^[^:\s]+:\d+$/.test(b))) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: brokers must be 'host:port' addresses, got ${JSON.stringify(brokers)}`);
  }
  return list;
}
