import avro from 'avsc';
import { SluiceError } from '../errors/index.js';
import { asBuffer, type Format } from './format.js';
import { declareSchema } from './declared-schemas.js';
import type { SchemaRegistryClient } from './schema-registry.js';

/** The Confluent wire format's header: magic byte 0, then the schema id as a 4-byte big-endian integer. */
export const CONFLUENT_MAGIC = 0;
export const CONFLUENT_HEADER_BYTES = 5;

/** Splits a Confluent-framed message into its schema id and payload; throws when the frame is not one. */
export function readConfluentFrame(bytes: Uint8Array): { schemaId: number; payload: Uint8Array } {
  if (bytes.byteLength < CONFLUENT_HEADER_BYTES) throw new Error(`not a Confluent-framed message: ${bytes.byteLength} bytes, the header alone is 5`);
  if (bytes[0] !== CONFLUENT_MAGIC) throw new Error(`not a Confluent-framed message: magic byte ${bytes[0]}, expected 0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { schemaId: view.getUint32(1, false), payload: bytes.subarray(CONFLUENT_HEADER_BYTES) };
}

/** Frames `payload` with magic byte 0 and `schemaId`. */
export function writeConfluentFrame(schemaId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONFLUENT_HEADER_BYTES + payload.byteLength);
  new DataView(out.buffer).setUint32(1, schemaId, false);
  out[0] = CONFLUENT_MAGIC;
  out.set(payload, CONFLUENT_HEADER_BYTES);
  return out;
}

/** The options every Confluent format takes: the registry, and to encode, the subject and the writer's schema. */
export interface ConfluentOptions<S> {
  /** The registry that schema ids are looked up in (and the writer's schema registered with). */
  registry: SchemaRegistryClient;
  /** The subject to register the writer's schema under (`<topic>-value`); needed to encode. */
  subject?: string;
  /** The writer's schema; needed to encode. Decoding uses the schema each message names. */
  schema?: S;
}

/** Options of {@link confluentAvroFormat}. */
export interface ConfluentAvroOptions extends ConfluentOptions<avro.Schema> {
  /**
   * The schema the job reads records as. Each message is decoded with its writer's
   * schema (fetched by id, once) resolved into this one: fields the writer lacks get
   * their defaults, fields the reader lacks are dropped, types are promoted (int → long,
   * float → double, string ↔ bytes…). A writer schema that cannot be resolved makes its
   * messages bad records, with avsc's reason. Default: records as each writer wrote them.
   * With `subject`, `sluice schema check` compares it with the subject's versions.
   */
  readerSchema?: avro.Schema;
}

/** Both directions between records and the payload of a Confluent frame (the bytes after its 5-byte header). */
export interface PayloadCodec<T> {
  /** The payload of a record; throws on a value the schema does not take. */
  encode(value: T): Uint8Array;
  /** The record in a payload; throws on a payload the schema cannot read. */
  decode(payload: Uint8Array): T;
}

/** How one schema language reads and writes payloads: what a Confluent format is made of. */
export interface ConfluentSchemaLanguage<S, T> {
  /** The format's name ('confluent-avro', …). */
  readonly name: string;
  /** The registry's name of the language. */
  readonly schemaType: 'AVRO' | 'PROTOBUF' | 'JSON';
  /** The text the writer's schema is registered as. */
  text(schema: S): string;
  /** A codec of payloads (the bytes after the 5-byte header) for a schema's text; throws when the text is not a schema. */
  compile(text: string): PayloadCodec<T>;
  /**
   * The codec that decodes payloads written with a writer's schema text (default
   * `compile`): where the language resolves writer schemas into a reader's. Throws when
   * the writer's schema cannot be read so.
   */
  reader?(text: string): PayloadCodec<T>;
  /** The reader's schema text, when the job declares one (for `sluice schema check`). */
  readonly readerText?: string;
}

/**
 * A format in the Confluent wire format (magic byte 0 + 4-byte schema id + payload) for
 * one schema language, with a schema registry. Decoding reads each message with the
 * schema its id names (fetched once per id in `prepare`, which connectors call before
 * decoding a batch); encoding registers `schema` under `subject` once (in `open`) and
 * frames every message with its id. A message whose id is unknown to the registry, or
 * whose frame is wrong, fails to decode (a bad record).
 *
 * @example
 * const f = confluentFormat<Order, avro.Schema>({ registry, subject: 'orders-value', schema }, avroLanguage);
 */
export function confluentFormat<T, S>(
  opts: ConfluentOptions<S>,
  language: ConfluentSchemaLanguage<S, T>,
): Format<T> & {
  /** The id the registry gave the writer's schema once `open` registered it; undefined before, and without `subject` and `schema`. */
  readonly schemaId: () => number | undefined;
} {
  const codecs = new Map<number, PayloadCodec<T>>();
  const failures = new Map<number, string>();
  let writerId: number | undefined;
  const writerText = opts.schema === undefined ? undefined : language.text(opts.schema);
  const writer = writerText === undefined ? undefined : language.compile(writerText);

  const readerOf = language.reader?.bind(language) ?? language.compile.bind(language);
  const load = async (id: number): Promise<void> => {
    let text: string;
    try {
      text = await opts.registry.schemaById(id);
    } catch (e) {
      failures.set(id, `schema id ${id} is not known: ${(e as Error).message.split('\n')[0]!}`);
      return;
    }
    try {
      codecs.set(id, readerOf(text));
      failures.delete(id);
    } catch (e) {
      failures.set(id, `schema id ${id} cannot be read as the reader's schema: ${(e as Error).message.split('\n')[0]!}`);
    }
  };
  if (opts.subject && writerText !== undefined) declareSchema({ registry: opts.registry, subject: opts.subject, schema: writerText, schemaType: language.schemaType, role: 'writer', format: language.name });
  if (opts.subject && language.readerText !== undefined) declareSchema({ registry: opts.registry, subject: opts.subject, schema: language.readerText, schemaType: language.schemaType, role: 'reader', format: language.name });

  return {
    name: language.name,
    schemaId: () => writerId,
    async open() {
      if (!opts.subject || writerText === undefined) return;
      writerId = await opts.registry.register(opts.subject, writerText, language.schemaType);
      if (!language.reader) codecs.set(writerId, writer!);
    },
    async prepare(messages) {
      const ids = new Set<number>();
      for (const m of messages) {
        if (m.byteLength >= CONFLUENT_HEADER_BYTES && m[0] === CONFLUENT_MAGIC) ids.add(readConfluentFrame(m).schemaId);
      }
      await Promise.all([...ids].filter((id) => !codecs.has(id)).map(load));
    },
    encode(value) {
      if (writerId === undefined || !writer) {
        throw new SluiceError('INVALID_ARGUMENT', `${language.name}: encoding needs \`subject\` and \`schema\`, and open() to have registered them`);
      }
      return writeConfluentFrame(writerId, writer.encode(value));
    },
    decode(bytes) {
      const { schemaId, payload } = readConfluentFrame(bytes);
      const codec = codecs.get(schemaId);
      if (!codec) throw new Error(failures.get(schemaId) ?? `schema id ${schemaId} is not known (prepare() was not called for this message)`);
      return codec.decode(payload);
    },
  };
}

/**
 * Avro in the Confluent wire format, with a schema registry (see {@link confluentFormat}).
 *
 * @example
 * const f = confluentAvroFormat<Order>({ registry, subject: 'orders-value', schema: orderSchema });
 */
export function confluentAvroFormat<T>(opts: ConfluentAvroOptions): ReturnType<typeof confluentFormat<T, avro.Schema>> {
  const compile = (text: string): PayloadCodec<T> => {
    const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    return { encode: (value) => type.toBuffer(value), decode: (payload) => type.fromBuffer(asBuffer(payload)) as T };
  };
  const readerText = opts.readerSchema === undefined ? undefined : JSON.stringify(opts.readerSchema);
  const readerType = opts.readerSchema === undefined ? undefined : avro.Type.forSchema(opts.readerSchema);
  return confluentFormat<T, avro.Schema>(opts, {
    name: 'confluent-avro',
    schemaType: 'AVRO',
    text: (schema) => JSON.stringify(schema),
    compile,
    ...(readerType
      ? {
          readerText,
          // One resolver per writer schema id (the format keeps a codec per id).
          reader(text: string): PayloadCodec<T> {
            const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
            const resolver = readerType.createResolver(writer);
            return { encode: () => { throw new Error('a reader codec does not encode'); }, decode: (payload) => readerType.fromBuffer(asBuffer(payload), resolver) as T };
          },
        }
      : {}),
  });
}
