import avro from 'avsc';
import { asBuffer, type Format } from './format.js';

/** An Avro schema (a record schema, usually) as JSON. */
export type AvroSchema = avro.Schema;

/**
 * Avro binary encoding of one schema (avsc): compact and fast (see DEPENDENCIES.md).
 * `decode` throws when the bytes do not match the schema (truncated, trailing bytes).
 * For messages that carry a schema id, see {@link confluentAvroFormat}.
 *
 * @example
 * const f = avroFormat<{ id: number; name: string }>({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }, { name: 'name', type: 'string' }] });
 */
export function avroFormat<T>(schema: AvroSchema): Format<T> & { readonly type: avro.Type } {
  const type = avro.Type.forSchema(schema);
  return {
    name: 'avro',
    type,
    encode: (value) => type.toBuffer(value),
    decode: (bytes) => type.fromBuffer(asBuffer(bytes)) as T,
  };
}
