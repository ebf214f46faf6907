/**
 * HTTP ingest: {@link httpSource} takes records by POST, with a bounded queue and 429 backpressure;
 * {@link httpLookup} is a JSON API as the table of a `lookupJoin`.
 *
 * @module
 */
export {
  httpSource,
  type HttpSource,
  type HttpSourceAddress,
  type HttpSourceOptions,
  type HttpSourceReader,
  type HttpSourceStats,
} from './source.js';
export type { Utf8Policy } from './body.js';
export { RecordQueue } from './record-queue.js';
export { httpLookup, type HttpLookupOptions, type HttpBatchRequest } from './lookup.js';
