/**
 * OpenSearch (and Elasticsearch, whose `_bulk` API is the same): {@link openSearchSink}
 * writes documents by id with the `_bulk` API over HTTP, exactly-once by idempotence, with
 * deletes and time-based indices deleted past a retention (index lifecycle). No client
 * package is needed.
 *
 * @module
 */
export { openSearchSink, type OpenSearchSink, type OpenSearchSinkOptions } from './sink.js';
