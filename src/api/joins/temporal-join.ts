import type { OutputTag } from '../../core/output-tag.js';
import type { StatefulStepOptions } from '../../core/step-options.js';
import { SluiceError } from '../../errors/index.js';
import type { Key } from '../../state/types.js';
import { ProcessingTimeTemporalJoinOperator } from '../../window/join/processing-time-temporal-join-operator.js';
import { TemporalJoinOperator, type TemporalJoinSpec } from '../../window/join/temporal-join-operator.js';
import { DataStream } from '../data-stream.js';
import type { KeyedStream } from '../keyed-stream.js';

/** The options of a temporal join whatever its kind: the uid (which names its state), version times, deletions, late outputs. */
export interface TemporalJoinBaseOptions<P, V> extends StatefulStepOptions {
  /**
   * `'event'` (default): each probe record waits for the watermark and gets the version
   * valid at its event time. `'processing'`: each probe record gets, at once, the latest
   * version that has arrived (no waiting; `versionTime` and the late outputs do not apply).
   */
  time?: 'event' | 'processing';
  /** The time from which a version is valid (epoch ms). Default: the version record's event timestamp. */
  versionTime?: (version: V) => number;
  /** Whether a version is a deletion marker: from its time on, the key has no valid version (until the next one). */
  isDelete?: (version: V) => boolean;
  /** Probe records at or behind the watermark when they arrive go here (otherwise they are counted in the step's late metric and dropped). */
  lateProbes?: OutputTag<P>;
  /** Versions at or behind the watermark when they arrive go here (otherwise they are counted in the step's late metric and dropped). */
  lateVersions?: OutputTag<V>;
}

/**
 * Options of {@link temporalJoin}: the join kind with its function, the uid (which names
 * the join's state), and optionally where a version's time comes from, which versions are
 * deletions, and where late records go.
 */
export type TemporalJoinOptions<P, V, O> = TemporalJoinBaseOptions<P, V> &
  (
    | {
        /** A probe record without a valid version at its time gives nothing. */
        kind: 'inner';
        /** The result of a probe record and the version valid at its time. */
        join: (probe: P, version: V) => O;
      }
    | {
        /** A probe record without a valid version at its time is joined with `undefined`. */
        kind: 'left';
        /** The result of a probe record and the version valid at its time, if any. */
        join: (probe: P, version: V | undefined) => O;
      }
  );

/**
 * Joins each probe record with the version of its key valid at the record's event time
 * (Flink's event-time temporal join, `FOR SYSTEM_TIME AS OF`). `versions` is a changelog
 * (upsert) stream: a version is valid from its time until the next version of its key,
 * and a deletion marker (`isDelete`) ends its validity.
 *
 * A probe record waits in keyed state until the watermark (the lower of both inputs')
 * passes its time; then it is joined with the version of greatest time `<= ` its own (a
 * version at exactly the probe's time counts), so a version that comes late but before
 * the watermark still counts. Of two versions of a key at the same time, the later to
 * arrive wins. Results carry the probe record's timestamp. Versions older than the one
 * valid at the watermark are dropped, so state stays bounded by the watermark. Records at
 * or behind the watermark when they arrive are late: they go to `lateProbes` /
 * `lateVersions` if given, else are dropped and counted (`sluice_late_records_dropped_total`).
 * The watermark waits for both inputs: a versions stream that rarely changes holds it back
 * unless its source is marked idle (`WatermarkStrategy.withIdleness`). Also
 * `probe.temporalJoin(versions, options)` on a {@link KeyedStream}.
 *
 * With `time: 'processing'`, a probe record is joined at once with the latest version of
 * its key to have arrived (a deletion clears it): nothing waits, and the result depends
 * on arrival order across the two inputs (see `processing-time-temporal-join-operator.ts`).
 *
 * @example
 * // Each order priced at the rate of its currency when it was placed.
 * const priced = temporalJoin(orders.keyBy((o) => o.currency), rates.keyBy((r) => r.currency), {
 *   uid: 'order-rates',
 *   kind: 'left',
 *   join: (order, rate) => ({ ...order, eur: rate ? order.amount * rate.toEur : undefined }),
 *   isDelete: (rate) => rate.retired,
 * });
 */
export function temporalJoin<P, V, K extends Key, O>(probe: KeyedStream<P, K>, versions: KeyedStream<V, K>, options: TemporalJoinOptions<P, V, O>): DataStream<O> {
  const where = `temporalJoin('${options?.uid ?? '?'}')`;
  if (probe.stream.job !== versions.stream.job) throw new SluiceError('INVALID_JOB', `${where} joins streams of two different jobs`);
  if (typeof options?.join !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${where} needs a join(probe, version) function`);
  const { kind, versionTime, isDelete } = options;
  if (kind !== 'inner' && kind !== 'left') {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: kind must be 'inner' or 'left', got ${String(kind)}`, {
      hint: "'inner' drops a probe record without a valid version; 'left' joins it with undefined.",
    });
  }
  for (const [name, f] of [['versionTime', versionTime], ['isDelete', isDelete]] as const) {
    if (f !== undefined && typeof f !== 'function') throw new SluiceError('INVALID_ARGUMENT', `${where}: ${name} must be a function, got ${typeof f}`);
  }
  const time = options.time ?? 'event';
  if (time !== 'event' && time !== 'processing') throw new SluiceError('INVALID_ARGUMENT', `${where}: time must be 'event' or 'processing', got ${String(time)}`);
  if (time === 'processing' && (versionTime || options.lateProbes || options.lateVersions)) {
    throw new SluiceError('INVALID_ARGUMENT', `${where}: versionTime, lateProbes and lateVersions belong to the event-time join; a processing-time join takes the latest version as it comes`);
  }
  const { join, lateProbes, lateVersions, kind: _kind, versionTime: _time, isDelete: _delete, time: _clock, ...stepOptions } = options;
  const spec: TemporalJoinSpec<P, V, K, O> = Object.freeze({
    probeKey: probe.keySelector,
    versionKey: versions.keySelector,
    kind,
    join: join as (probe: P, version: V | undefined) => O,
    versionTime,
    isDelete,
    lateProbes,
    lateVersions,
  });
  const job = probe.stream.job;
  const node = job.addStep({
    kind: 'temporalJoin',
    options: stepOptions as StatefulStepOptions,
    stateful: true,
    inputs: [probe.edge(0), versions.edge(1)],
    description:
      time === 'processing'
        ? `${kind} temporal join in processing time, with the latest version${isDelete ? ', with deletions' : ''}`
        : `${kind} temporal join, versions valid from ${versionTime ? 'versionTime' : 'their timestamp'}${isDelete ? ', with deletions' : ''}`,
    createOperator: () => (time === 'processing' ? new ProcessingTimeTemporalJoinOperator<P, V, K, O>(spec) : new TemporalJoinOperator<P, V, K, O>(spec)),
  });
  return new DataStream<O>(job, node);
}
