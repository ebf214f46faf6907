import AjvModule, { type ValidateFunction } from 'ajv';
import { SluiceError } from '../errors/index.js';
import type { Format } from './format.js';

// ajv is CommonJS: under NodeNext its class is the default export's `default`.
type AjvClass = typeof AjvModule.default;
const Ajv: AjvClass = (AjvModule as unknown as { default?: AjvClass }).default ?? (AjvModule as unknown as AjvClass);

/** A JSON Schema (draft-07 / 2019 subset that ajv reads). */
export type JsonSchema = Record<string, unknown>;

/**
 * Compiles a JSON Schema into a type guard for `T` (ajv). The type parameter is the
 * TypeScript view of the schema: keep the two in step (a type test helps).
 *
 * @example
 * const isOrder = jsonSchemaValidator<Order>({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } });
 */
export function jsonSchemaValidator<T>(schema: JsonSchema): {
  (value: unknown): value is T;
  /** Why the last value checked failed: `path message` for each error, joined by `; ` (empty after a value that passed). */
  errors(): string;
} {
  let validate: ValidateFunction;
  try {
    validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  } catch (e) {
    throw new SluiceError('INVALID_ARGUMENT', `jsonSchemaValidator: the schema does not compile: ${(e as Error).message}`);
  }
  const guard = ((value: unknown): value is T => validate(value) as boolean) as { (value: unknown): value is T; errors(): string };
  guard.errors = () => (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
  return guard;
}

/**
 * Wraps a format so that every decoded value (and every value to encode) is checked
 * against a JSON Schema: typed records from a schema. A value that fails throws with
 * ajv's messages, which a connector turns into a bad record (dead letter, skip or fail).
 *
 * @example
 * const orders = validated(jsonFormat(), orderSchema) as Format<Order>;
 * natsSource({ ..., format: validated<Order>(jsonFormat(), orderSchema) });
 */
export function validated<T>(inner: Format<unknown>, schema: JsonSchema): Format<T> {
  const check = jsonSchemaValidator<T>(schema);
  return {
    name: `${inner.name}+json-schema`,
    open: inner.open?.bind(inner),
    prepare: inner.prepare?.bind(inner),
    close: inner.close?.bind(inner),
    encode(value) {
      if (!check(value)) throw new Error(`value does not match the schema: ${check.errors()}`);
      return inner.encode(value);
    },
    decode(bytes) {
      const value = inner.decode(bytes);
      if (!check(value)) throw new Error(`record does not match the schema: ${check.errors()}`);
      return value;
    },
  };
}
