/**
 * Formats: codecs between records and bytes ({@link Format}), used by the connectors'
 * `format:` option. JSON, text, CSV lines, Avro, Protobuf, MessagePack, the Confluent
 * wire format with a schema registry (Avro, Protobuf, JSON Schema), and JSON Schema
 * validation (`validated`) for typed records. Every connector that takes a format runs
 * its lifecycle through {@link FormatLifecycle}: open, prepare per batch, close. (The policy for messages that fail to decode, `onBadRecord`, is
 * the sources': `connectors/shared/ingest.ts`.)
 *
 * @module
 */
export { asBuffer, fromUtf8, utf8, type Format, type FormatHooks } from './format.js';
export { FormatLifecycle } from './lifecycle.js';
export { jsonFormat, textFormat } from './json.js';
export { csvFormat, type CsvFormatOptions } from './csv.js';
export { avroFormat, type AvroSchema } from './avro.js';
export { protobufFormat, type ProtobufFormatOptions } from './protobuf.js';
export { msgpackFormat } from './msgpack.js';
export { SchemaRegistryClient, type CompatibilityLevel, type RegisteredSchema, type SchemaRegistryOptions } from './schema-registry.js';
export { avroUnreadable, checkAvroCompatibility, type CompatibilityProblem } from './avro-compatibility.js';
export { declaredSchemas, type DeclaredSchema } from './declared-schemas.js';
export {
  confluentAvroFormat,
  confluentFormat,
  readConfluentFrame,
  writeConfluentFrame,
  CONFLUENT_MAGIC,
  type ConfluentAvroOptions,
  type ConfluentOptions,
  type ConfluentSchemaLanguage,
  type PayloadCodec,
} from './confluent.js';
export { confluentProtobufFormat, type ConfluentProtobufOptions } from './confluent-protobuf.js';
export { confluentJsonSchemaFormat } from './confluent-json.js';
export { jsonSchemaValidator, validated, type JsonSchema } from './validated.js';
