import { fromUtf8, utf8, type Format } from './format.js';

/**
 * JSON documents as UTF-8 bytes. `decode` throws on malformed UTF-8 or JSON. The type
 * parameter is a promise the caller makes; pair it with {@link validated} (JSON Schema)
 * to check it at ingestion.
 *
 * @example
 * const f = jsonFormat<{ id: number }>();
 */
export function jsonFormat<T = unknown>(): Format<T> {
  return {
    name: 'json',
    encode: (value) => {
      const text = JSON.stringify(value);
      if (text === undefined) throw new Error('jsonFormat: undefined cannot be written as JSON');
      return utf8(text);
    },
    decode: (bytes) => JSON.parse(fromUtf8(bytes)) as T,
  };
}

/**
 * Plain UTF-8 text (no parsing). Decoding malformed UTF-8 throws: a bad record.
 *
 * @example
 * mqttSource({ topics: 'logs/#', format: textFormat() }); // each payload as a string
 */
export function textFormat(): Format<string> {
  return { name: 'text', encode: (value) => utf8(value), decode: (bytes) => fromUtf8(bytes) };
}
