import { confluentFormat, type ConfluentOptions } from './confluent.js';
import { fromUtf8, utf8 } from './format.js';
import { jsonSchemaValidator, type JsonSchema } from './validated.js';

/**
 * JSON checked by a JSON Schema, in the Confluent wire format (magic byte 0 + schema id +
 * UTF-8 JSON), with a schema registry: see `confluentFormat`. Encoding checks each value
 * against the writer's schema; decoding checks it against the schema its id names, and a
 * value that does not match is a bad record.
 *
 * @example
 * const f = confluentJsonSchemaFormat<Order>({ registry, subject: 'orders-value', schema: orderJsonSchema });
 */
export function confluentJsonSchemaFormat<T>(opts: ConfluentOptions<JsonSchema>): ReturnType<typeof confluentFormat<T, JsonSchema>> {
  return confluentFormat<T, JsonSchema>(opts, {
    name: 'confluent-json-schema',
    schemaType: 'JSON',
    text: (schema) => JSON.stringify(schema),
    compile(text) {
      const check = jsonSchemaValidator<T>(JSON.parse(text) as JsonSchema);
      const checked = (value: unknown): T => {
        if (!check(value)) throw new Error(`value does not match the schema: ${check.errors()}`);
        return value;
      };
      return { encode: (value) => utf8(JSON.stringify(checked(value))), decode: (payload) => checked(JSON.parse(fromUtf8(payload))) };
    },
  });
}
