/**
 * The Nexmark queries, each written only with the public Sluice API. A query takes the
 * event stream (timestamps and watermarks already assigned) and returns its result rows,
 * with the columns `shared/nexmark/README.md` names.
 */
import type { DataStream } from '../../api/data-stream.js';
import type { NexmarkEvent } from '../events.js';
import { q0 } from './q0.js';
import { q1 } from './q1.js';
import { q11 } from './q11.js';
import { q2 } from './q2.js';
import { q3 } from './q3.js';
import { q4 } from './q4.js';
import { q5 } from './q5.js';
import { q7 } from './q7.js';
import { q8 } from './q8.js';

export type QueryName = 'q0' | 'q1' | 'q2' | 'q3' | 'q4' | 'q5' | 'q7' | 'q8' | 'q11';

export interface QueryInfo {
  readonly build: (events: DataStream<NexmarkEvent>) => DataStream<any>;
  /** How results are read: `append` (every row is a result), `updating` (the last row per `key` is current). */
  readonly result: 'append' | { readonly updating: string };
  /** For latency: rows are final when the watermark passes this event time (windowed queries); else the record's own time. */
  readonly readyAt?: (row: any) => number;
}

export const QUERIES: Readonly<Record<QueryName, QueryInfo>> = Object.freeze({
  q0: { build: q0, result: 'append' },
  q1: { build: q1, result: 'append' },
  q2: { build: q2, result: 'append' },
  q3: { build: q3, result: 'append' },
  q4: { build: q4, result: { updating: 'category' } },
  q5: { build: q5, result: 'append', readyAt: (r: { windowEnd: number }) => r.windowEnd },
  q7: { build: q7, result: 'append', readyAt: (r: { windowEnd: number }) => r.windowEnd },
  q8: { build: q8, result: 'append', readyAt: (r: { windowStart: number }) => r.windowStart + 10_000 },
  q11: { build: q11, result: 'append', readyAt: (r: { windowEnd: number }) => r.windowEnd },
});

export const QUERY_NAMES = Object.keys(QUERIES) as QueryName[];

export function isQueryName(s: string): s is QueryName {
  return Object.prototype.hasOwnProperty.call(QUERIES, s);
}

export { q0, q1, q2, q3, q4, q5, q7, q8, q11 };
