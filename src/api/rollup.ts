import type { Sink } from '../connectors/sink.js';
import type { OutputTag } from '../core/output-tag.js';
import { SluiceError } from '../errors/index.js';
import type { Key } from '../state/types.js';
import { toMillis, type Duration } from '../time/duration.js';
import type { WatermarkStrategy } from '../time/watermark-strategy.js';
import { tumbling } from '../window/assigners/index.js';
import { coarserLevel, finestLevel, type BucketState } from '../window/rollup/bucket-aggregates.js';
import { namedAggregates, type NamedAggregates, type NamedResults } from '../window/rollup/named-aggregates.js';
import type { WindowResult } from '../window/window-function.js';
import type { DataStream, KeyField } from './data-stream.js';

/** Options of {@link rollup}. */
export interface RollupOptions<T, K extends Key, A extends NamedAggregates<T>> {
  /** Names the rollup's steps: level `1m` is the window step `<uid>.1m`. */
  uid: string;
  /** The series key: a function or a property name. */
  key: ((value: T) => K) | KeyField<T>;
  /**
   * Timestamps and watermarks, when the stream does not carry them yet (a source without a
   * watermark strategy). Default: the stream's own.
   */
  time?: WatermarkStrategy<T>;
  /** Bucket sizes, finest first; each a whole multiple of the one before: `['1m', '1h', '1d']`. */
  levels: readonly Duration[];
  /** Named aggregate functions, each with `merge`: `{ n: count(), total: sum('amount'), peak: max('amount') }`. */
  aggregates: A;
  /**
   * How long after its end a bucket still takes late records (default 0). A late record
   * within it re-emits its finest bucket and every coarser bucket above it, as updates
   * (`isUpdate: true`) that an upsert sink applies in place.
   */
  allowedLateness?: Duration;
  /** Records later than the allowed lateness go here (otherwise they are counted and dropped, as in any window). */
  lateData?: OutputTag<T>;
  /** Parallelism of the rollup's window steps (default: the job's). */
  parallelism?: number;
}

/** One bucket of one level, as the rollup emits it: a new bucket, or a correction of one (`isUpdate`). */
export interface RollupRow<K, V> {
  /** The level, as declared (`'1h'`; a number of milliseconds becomes `'3600000ms'`). */
  readonly level: string;
  readonly key: K;
  /** The bucket is `[start, end)`, epoch milliseconds. */
  readonly start: number;
  readonly end: number;
  /** One value per named aggregate. */
  readonly values: V;
  /** True when this bucket was emitted before: the row replaces the earlier one (upsert by key and start). */
  readonly isUpdate: boolean;
}

/** What {@link rollup} returns: one stream per level. */
export interface Rollup<K, V, T = unknown> {
  /** The level names, finest first. */
  readonly levels: readonly string[];
  /** The rows of one level. */
  level(name: string): DataStream<RollupRow<K, V>>;
  /** The records later than the allowed lateness: the side output of the finest level's window step (needs `lateData`). */
  late(): DataStream<T>;
  /** Sends each level to its own sink (its own table, measurement…); the sink steps are named `<uid>.<level>.sink`. */
  sinkTo(sinkOf: (level: string) => Sink<RollupRow<K, V>>): void;
}

/**
 * Downsampling: the same named aggregates per key at several resolutions, each level
 * computed from the level below, not from the raw records (a day merges 24 hour buckets,
 * an hour 60 minute buckets), so coarse levels cost one record per finer bucket.
 *
 * Every level is a tumbling event-time window with the same allowed lateness. A record
 * within the allowed lateness re-fires its finest bucket; the correction replaces that
 * bucket's contribution in the level above (which re-fires in turn), and so on up: every
 * level's latest row per (key, start) equals a batch GROUP BY over the same records
 * (`test/window/rollup.property.test.ts` checks it against DuckDB). The same lateness
 * suffices at every level: a correction carries its bucket's last timestamp, never later
 * than the coarser bucket's, so it is never late there.
 *
 * @example
 * const r = rollup(readings, { uid: 'temps', key: 'sensor', levels: ['1m', '1h', '1d'], allowedLateness: '5m',
 *   aggregates: { n: count(), mean: avg('celsius'), peak: max('celsius') } });
 * r.sinkTo((level) => postgresTimeSeriesSink({ table: `temps_${level}`, … }));
 */
export function rollup<T, K extends Key, A extends NamedAggregates<T>>(stream: DataStream<T>, options: RollupOptions<T, K, A>): Rollup<K, NamedResults<A>, T> {
  type V = NamedResults<A>;
  const { uid } = options ?? ({} as RollupOptions<T, K, A>);
  if (typeof uid !== 'string' || uid.trim() === '') throw new SluiceError('MISSING_UID', 'rollup() needs a uid: it names the state of its window steps');
  const levels = parseLevels(options.levels, uid);
  const fn = namedAggregates<T, A>(options.aggregates);
  const lateness = options.allowedLateness === undefined ? 0 : toMillis(options.allowedLateness, `rollup '${uid}' allowed lateness`);
  const key = options.key;
  if (typeof key !== 'function' && typeof key !== 'string' && typeof key !== 'number') {
    throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}': key must be a function or a property name`);
  }
  const input = options.time ? stream.assignTimestampsAndWatermarks(options.time, { uid: `${uid}.time` }) : stream;
  const stepOptions = (level: string) => ({ uid: `${uid}.${level}`, ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}) });

  let finest = (input.keyBy(key as (value: T) => K) as ReturnType<DataStream<T>['keyBy']>).window(tumbling<T>(levels[0]!.ms)).allowedLateness(lateness);
  if (options.lateData) finest = finest.sideOutputLateData(options.lateData);
  type Bucket = WindowResult<K, BucketState<Record<string, unknown>, V>>;
  const finestStep = finest.aggregate(finestLevel(fn, lateness > 0), stepOptions(levels[0]!.name));
  let buckets = finestStep as unknown as DataStream<Bucket>;
  const streams = new Map<string, DataStream<RollupRow<K, V>>>();
  const rows = (level: string, s: DataStream<Bucket>) =>
    s.map((r): RollupRow<K, V> => ({ level, key: r.key, start: r.start, end: r.end, values: r.value.values, isUpdate: r.isUpdate }), { uid: `${uid}.${level}.rows` });
  streams.set(levels[0]!.name, rows(levels[0]!.name, buckets));
  for (const level of levels.slice(1)) {
    buckets = buckets
      .keyBy((r: Bucket) => r.key)
      .window(tumbling<Bucket>(level.ms))
      .allowedLateness(lateness)
      .aggregate(coarserLevel(fn as Parameters<typeof coarserLevel<Record<string, unknown>, V>>[0], lateness), stepOptions(level.name)) as unknown as DataStream<Bucket>;
    streams.set(level.name, rows(level.name, buckets));
  }
  const names = levels.map((l) => l.name);
  return {
    levels: names,
    level: (name) => {
      const s = streams.get(name);
      if (!s) throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}' has no level ${JSON.stringify(name)}; its levels are ${names.join(', ')}`);
      return s;
    },
    late: () => {
      if (!options.lateData) throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}' declares no lateData output tag`);
      return finestStep.sideOutput(options.lateData);
    },
    sinkTo: (sinkOf) => {
      for (const name of names) streams.get(name)!.sinkTo(sinkOf(name), { uid: `${uid}.${name}.sink` });
    },
  };
}

function parseLevels(levels: readonly Duration[] | undefined, uid: string): Array<{ name: string; ms: number }> {
  if (!Array.isArray(levels) || levels.length === 0) {
    throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}': levels must name at least one bucket size, finest first, such as ['1m', '1h', '1d']`);
  }
  const out: Array<{ name: string; ms: number }> = [];
  for (const l of levels) {
    const ms = toMillis(l, `rollup '${uid}' level`);
    const name = typeof l === 'string' ? l.trim() : `${ms}ms`;
    const prev = out[out.length - 1];
    if (!Number.isSafeInteger(ms) || ms <= 0) throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}': level ${JSON.stringify(l)} must be a whole, positive number of milliseconds`);
    if (prev && (ms <= prev.ms || ms % prev.ms !== 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}': level ${name} (${ms} ms) is not a larger whole multiple of level ${prev.name} (${prev.ms} ms)`, {
        hint: 'Each level is built from the one below: list them finest first, each a whole multiple of the previous, such as 1m, 1h, 1d.',
      });
    }
    if (out.some((o) => o.name === name)) throw new SluiceError('INVALID_ARGUMENT', `rollup '${uid}': level ${name} is listed twice`);
    out.push({ name, ms });
  }
  return out;
}
