import avro from 'avsc';
import { SluiceError } from '../errors/index.js';
import { asBuffer, type Format } from './format.js';
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

/** Options of {@link confluentAvroFormat}: the registry, and to encode, the subject and the writer's schema. */
export interface ConfluentAvroOptions {
  /** The registry that schema ids are looked up in (and the writer's schema registered with). */
  registry: SchemaRegistryClient;
  /** The subject to register the writer's schema under (`<topic>-value`); needed to encode. */
  subject?: string;
  /** The writer's schema; needed to encode. Decoding uses the schema each message names. */
  schema?: avro.Schema;
}

/**
 * Avro in the Confluent wire format (magic byte 0 + 4-byte schema id + Avro binary), with
 * a schema registry. Decoding reads each message with the schema its id names (fetched
 * once per id in `prepare`, which connectors call before decoding a batch); encoding
 * registers `schema` under `subject` once (in `open`) and frames every message with its id.
 * A message whose id is unknown to the registry, or whose frame is wrong, fails to decode
 * (a bad record).
 *
 * @example
 * const f = confluentAvroFormat<Order>({ registry, subject: 'orders-value', schema: orderSchema });
 */
export function confluentAvroFormat<T>(opts: ConfluentAvroOptions): Format<T> & {
  /** The id the registry gave the writer's schema once `open` registered it; undefined before, and without `subject` and `schema`. */
  readonly schemaId: () => number | undefined;
} {
  const types = new Map<number, avro.Type>();
  const failures = new Map<number, string>();
  let writerId: number | undefined;
  const writerType = opts.schema ? avro.Type.forSchema(opts.schema) : undefined;

  const load = async (id: number): Promise<void> => {
    if (types.has(id)) return;
    try {
      types.set(id, avro.Type.forSchema(JSON.parse(await opts.registry.schemaById(id)) as avro.Schema));
      failures.delete(id);
    } catch (e) {
      failures.set(id, (e as Error).message.split('\n')[0]!);
    }
  };

  return {
    name: 'confluent-avro',
    schemaId: () => writerId,
    async open() {
      if (!opts.subject || !opts.schema) return;
      writerId = await opts.registry.register(opts.subject, JSON.stringify(opts.schema));
      types.set(writerId, writerType!);
    },
    async prepare(messages) {
      const ids = new Set<number>();
      for (const m of messages) {
        if (m.byteLength >= CONFLUENT_HEADER_BYTES && m[0] === CONFLUENT_MAGIC) ids.add(readConfluentFrame(m).schemaId);
      }
      await Promise.all([...ids].filter((id) => !types.has(id)).map(load));
    },
    encode(value) {
      if (writerId === undefined || !writerType) {
        throw new SluiceError('INVALID_ARGUMENT', 'confluentAvroFormat: encoding needs `subject` and `schema`, and open() to have registered them');
      }
      return writeConfluentFrame(writerId, writerType.toBuffer(value));
    },
    decode(bytes) {
      const { schemaId, payload } = readConfluentFrame(bytes);
      const type = types.get(schemaId);
      if (!type) throw new Error(`schema id ${schemaId} is not known${failures.has(schemaId) ? `: ${failures.get(schemaId)}` : ' (prepare() was not called for this message)'}`);
      return type.fromBuffer(asBuffer(payload)) as T;
    },
  };
}
