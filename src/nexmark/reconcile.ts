/**
 * Reconciliation: a streaming result against DuckDB's batch answer over the same events,
 * compared as multisets of rows. Rows are canonicalised column by column (integers as
 * they are, other numbers to 12 significant digits, so that a different but equally
 * correct summation order cannot fail a comparison), then counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { loadOptional } from '../connectors/shared/optional-client.js';
import { writeEventsJsonl } from './jsonl.js';
import type { GeneratorConfig } from './generator.js';
import { QUERIES, type QueryName } from './queries/index.js';
import { runNexmark } from './run.js';
import { BATCH_SQL, EVENT_COLUMNS } from './sql/index.js';

export interface Reconciliation {
  query: QueryName;
  streamRows: number;
  batchRows: number;
  equal: boolean;
  /** Readable differences (first rows missing from and extra in the stream), empty when equal. */
  diff: string;
}

/** The batch answer of `query` over a JSONL file of events, as plain objects (bigints made numbers). */
export async function batchAnswer(query: QueryName, eventsPath: string, db?: DuckDBInstance): Promise<Record<string, unknown>[]> {
  const instance = db ?? (await openDuckDb());
  const conn = await instance.connect();
  try {
    const columns = Object.entries(EVENT_COLUMNS)
      .map(([k, t]) => `'${k}': '${t}'`)
      .join(', ');
    const path = eventsPath.replace(/'/g, "''");
    await conn.run(`CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_json('${path}', format = 'newline_delimited', columns = {${columns}})`);
    const reader = await conn.runAndReadAll(BATCH_SQL[query]);
    return reader.getRowObjectsJS().map((row) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) o[k] = typeof v === 'bigint' ? Number(v) : v;
      return o;
    });
  } finally {
    conn.closeSync();
  }
}

/** A row as one comparable string over `columns`. */
export function canonicalRow(row: Record<string, unknown>, columns: readonly string[]): string {
  return columns
    .map((c) => {
      const v = row[c];
      if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(12);
      return JSON.stringify(v);
    })
    .join(' | ');
}

/** The current value of an updating result: the last row per key. */
export function lastPerKey(rows: readonly Record<string, unknown>[], key: string): Record<string, unknown>[] {
  const last = new Map<unknown, Record<string, unknown>>();
  for (const r of rows) last.set(r[key], r);
  return [...last.values()];
}

/** Compares two multisets of rows; the diff lists up to `show` rows on each side that the other lacks. */
export function compareRows(
  stream: readonly Record<string, unknown>[],
  batch: readonly Record<string, unknown>[],
  columns: readonly string[],
  show = 5,
): { equal: boolean; diff: string } {
  const counts = new Map<string, number>();
  for (const r of batch) {
    const k = canonicalRow(r, columns);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const extra: string[] = [];
  for (const r of stream) {
    const k = canonicalRow(r, columns);
    const c = counts.get(k);
    if (c === undefined) extra.push(k);
    else if (c === 1) counts.delete(k);
    else counts.set(k, c - 1);
  }
  const missing: string[] = [];
  for (const [k, c] of counts) for (let i = 0; i < c; i++) missing.push(k);
  if (extra.length === 0 && missing.length === 0) return { equal: true, diff: '' };
  missing.sort();
  extra.sort();
  const lines = [`columns: ${columns.join(' | ')}`];
  lines.push(`${missing.length} row(s) in the batch answer but not in the stream${missing.length ? ', first:' : ''}`);
  for (const m of missing.slice(0, show)) lines.push(`  - ${m}`);
  lines.push(`${extra.length} row(s) in the stream but not in the batch answer${extra.length ? ', first:' : ''}`);
  for (const e of extra.slice(0, show)) lines.push(`  + ${e}`);
  return { equal: false, diff: lines.join('\n') };
}

export interface ReconcileOptions extends Partial<GeneratorConfig> {
  readonly events: number;
  readonly queries?: readonly QueryName[];
  /** Watermark delay; default: 4 s or the generator's disorder if larger. */
  readonly watermarkDelayMs?: number;
  /** Runs the queries with this many subtasks per step (worker threads). Default 1. */
  readonly parallelism?: number;
}

/**
 * Generates the events once (to a temporary JSONL file for DuckDB), runs each query in
 * Sluice over the same generated events, and compares each result with the batch answer.
 */
export async function reconcile(options: ReconcileOptions): Promise<Reconciliation[]> {
  const { events, queries = Object.keys(QUERIES) as QueryName[], watermarkDelayMs, parallelism, ...config } = options;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nexmark-'));
  const path = join(dir, 'events.jsonl');
  const db = await openDuckDb();
  try {
    await writeEventsJsonl(path, events, config);
    const out: Reconciliation[] = [];
    for (const query of queries) {
      const { rows } = await runNexmark({
        query,
        input: { kind: 'generate', events, ...config },
        collect: true,
        parallelism,
        ...(watermarkDelayMs === undefined ? {} : { watermarkDelayMs }),
      });
      const batch = await batchAnswer(query, path, db);
      const result = QUERIES[query].result;
      const stream = result === 'append' ? (rows as Record<string, unknown>[]) : lastPerKey(rows as Record<string, unknown>[], result.updating);
      const columns = batch[0] ? Object.keys(batch[0]) : stream[0] ? Object.keys(stream[0]) : [];
      const { equal, diff } = compareRows(stream, batch, columns);
      out.push({ query, streamRows: rows!.length, batchRows: batch.length, equal, diff });
    }
    return out;
  } finally {
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An in-memory DuckDB. DuckDB (70 MB) is an optional dependency: only verification needs it. */
async function openDuckDb(): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await loadOptional('@duckdb/node-api', 'Nexmark verification (DuckDB batch answers)', () => import('@duckdb/node-api'));
  return DuckDBInstance.create(':memory:');
}
