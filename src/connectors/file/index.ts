/**
 * Files: {@link fileSource} reads JSON lines or CSV (bounded, or following the file like
 * `tail -f`); {@link jsonlFileSink} appends JSON lines.
 *
 * @module
 */
export { fileSource, type FileSource, type FileSourceOptions, type FileSourceReader } from './source.js';
export { fileSink, jsonlFileSink, type FileSink, type FileSinkOptions } from './sink.js';
export { transactionalFileSink, type TransactionalFileSink, type TransactionalFileSinkOptions } from './transactional-sink.js';
export { type CsvOptions } from './line-format.js';
export { LineSplitter, type Line } from './line-splitter.js';
