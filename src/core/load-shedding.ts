import { SluiceError } from '../errors/index.js';
import { toPositiveMillis, type Duration } from '../time/duration.js';
import type { OutputTag } from './output-tag.js';

/**
 * Which records a source drops while it is overloaded:
 * - `{ sample: keep }`: keeps the share `keep` (0 … 1) of records, evenly spread
 *   (`0.25`: one in four; the same records on the same input);
 * - `{ dropLowest: priority, share }`: of each batch read while overloaded, drops the
 *   `share` (0 … 1) with the lowest `priority(record)` (ties: the later ones first);
 * - `{ predicate }`: drops the records `predicate(record)` is true for (debug events,
 *   free-tier traffic).
 */
export type ShedPolicy<T> =
  | {
      /** The share of records kept, 0 … 1. */
      readonly sample: number;
    }
  | {
      /** A record's priority: the lowest go first. */
      readonly dropLowest: (value: T) => number;
      /** The share of each overloaded batch dropped, 0 … 1. */
      readonly share: number;
    }
  | {
      /** Whether a record is dropped while the source is overloaded. */
      readonly predicate: (value: T) => boolean;
    };

/**
 * Load shedding of a source (off by default): while the source is overloaded, its
 * `policy` drops records before they enter the job. Overloaded means the reader's
 * backlog is above `when.backlog` records, or the pipeline took longer than
 * `when.latency` (on the job's clock) to take the last batch the source handed it (a
 * slow sink, full buffers: backpressure), whichever of the two is given. Every dropped
 * record is counted (`sluice_source_shed_total`), and goes to `sideOutput` when given
 * (`sourceStream.sideOutput(tag)`), never silently.
 *
 * Shedding loses records on purpose: results are those of the records kept, and a
 * replay after a restart may shed others (the load differs).
 *
 * @example
 * const shed = new OutputTag<Click>('shed');
 * const clicks = job.source(kafkaSource(…), { uid: 'clicks',
 *   shed: { when: { backlog: 100_000, latency: '2s' }, policy: { predicate: (c) => c.debug }, sideOutput: shed } });
 * clicks.sideOutput(shed).sinkTo(fileSink('shed/'), { uid: 'shed-out' });
 */
export interface LoadShedding<T> {
  /** When the source counts as overloaded: at least one of the two. */
  when: {
    /** Records the reader has yet to read (its `backlog()`; the reader must tell one). */
    backlog?: number;
    /** How long the pipeline took to take the last batch, from handing it over to the next read. */
    latency?: Duration;
  };
  policy: ShedPolicy<T>;
  /** Where shed records go (the source step's side output); without it they are only counted. */
  sideOutput?: OutputTag<T>;
}

/** {@link LoadShedding} checked, as the runtime applies it. */
export interface ShedSpec<T> {
  readonly backlog: number | undefined;
  readonly latencyMs: number | undefined;
  readonly policy: ShedPolicy<T>;
  readonly sideOutput: string | undefined;
}

/** Checks a source's load shedding when the job is built: a bad one fails the definition, not the run. */
export function shedSpec<T>(shed: LoadShedding<T>, where: string): ShedSpec<T> {
  const bad = (why: string): never => {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: shed ${why}`, {
      hint: "Give `shed: { when: { backlog: 10_000 } | { latency: '1s' }, policy: { sample: 0.5 } | { dropLowest: fn, share: 0.5 } | { predicate: fn } }`.",
    });
  };
  if (!shed || typeof shed !== 'object' || !shed.when || typeof shed.when !== 'object') return bad('needs `when` and `policy`');
  const { backlog, latency } = shed.when;
  if (backlog === undefined && latency === undefined) bad('needs `when.backlog` or `when.latency`');
  if (backlog !== undefined && !(Number.isInteger(backlog) && backlog >= 0)) bad(`when.backlog must be an integer ≥ 0, got ${String(backlog)}`);
  const latencyMs = latency === undefined ? undefined : toPositiveMillis(latency, `${where}: shed when.latency`);
  const p = shed.policy as Partial<Record<'sample' | 'dropLowest' | 'share' | 'predicate', unknown>> | undefined;
  const share = (v: unknown, name: string) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(`policy.${name} must be a number between 0 and 1, got ${String(v)}`);
  };
  if (!p || typeof p !== 'object') bad('needs a policy');
  else if ('sample' in p) share(p.sample, 'sample');
  else if ('dropLowest' in p) {
    if (typeof p.dropLowest !== 'function') bad('policy.dropLowest must be a function record => priority');
    share(p.share, 'share');
  } else if ('predicate' in p) {
    if (typeof p.predicate !== 'function') bad('policy.predicate must be a function record => boolean');
  } else bad('policy must be { sample }, { dropLowest, share } or { predicate }');
  return Object.freeze({ backlog, latencyMs, policy: shed.policy, sideOutput: shed.sideOutput?.id });
}

/** When a source sheds, in words, for `job.explain()`. */
export function shedWhen(spec: Pick<ShedSpec<unknown>, 'backlog' | 'latencyMs'>): string {
  const when: string[] = [];
  if (spec.backlog !== undefined) when.push(`backlog > ${spec.backlog}`);
  if (spec.latencyMs !== undefined) when.push(`latency > ${spec.latencyMs} ms`);
  return when.join(' or ');
}
