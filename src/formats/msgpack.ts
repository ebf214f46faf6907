import { createRequire } from 'node:module';
import type { Format } from './format.js';

// msgpackr is loaded by the first msgpack format: importing Sluice skips its load time.
const require = createRequire(import.meta.url);

/**
 * MessagePack (msgpackr), self-describing: any JSON-like value plus binary, Date, Map.
 * Record structures are off so that every message decodes on its own (a reader never
 * needs another message's structure definition).
 *
 * @example
 * const f = msgpackFormat<{ id: number }>();
 */
export function msgpackFormat<T = unknown>(): Format<T> {
  const { Packr } = require('msgpackr') as typeof import('msgpackr');
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  return {
    name: 'msgpack',
    encode: (value) => packr.pack(value),
    decode: (bytes) => packr.unpack(bytes) as T,
  };
}
