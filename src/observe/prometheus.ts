import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { LAG_TIMEOUT_MS, type ClusterFigures, type ClusterFiguresSource } from './cluster-figures.js';
import { CHECKPOINT_BOUNDS_SECONDS, Histogram } from './histogram.js';
import type { JobMetrics } from './job-metrics.js';
import { registeredDependencies } from '../resilience/registry.js';
import type { StateBackendStats } from '../state/types.js';

// prom-client (and the OpenTelemetry API it loads) is loaded with the first registry,
// which the job monitor makes at the first scrape: starting a job skips its load time.
const require = createRequire(import.meta.url);

type Labels = Record<string, string | number>;
interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

type Type = 'counter' | 'gauge' | 'histogram';
interface MetricValues {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Sample[];
}

/**
 * A metric whose values are read at scrape time from plain numbers (prom-client calls
 * `get()`): the hot path never touches prom-client. Registered with `registerMetric`,
 * which accepts any object of this shape. A read that has to ask elsewhere (a cluster
 * member's lag, from the brokers) returns a Promise, which the registry awaits.
 */
class ReadAtScrape {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Type,
    private readonly read: () => Sample[] | Promise<Sample[]>,
  ) {}
  get(): MetricValues | Promise<MetricValues> {
    const values = this.read();
    return values instanceof Promise ? values.then((v) => this.withValues(v)) : this.withValues(values);
  }
  private withValues(values: Sample[]): MetricValues {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
  reset(): void {}
}

/** The samples of a histogram in the Prometheus layout: cumulative `_bucket`s, `_sum`, `_count`. */
function histogramSamples(name: string, h: Histogram, labels: Labels): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < h.counts.length; i++) {
    cumulative += h.counts[i]!;
    const le = i < h.bounds.length ? String(h.bounds[i]) : '+Inf';
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

/**
 * The Prometheus registry of one job: every Sluice metric (names start with `sluice_`,
 * labelled by job, step or task, and subtask) plus Node's process metrics. Scraping
 * costs a walk over the steps; the job pays nothing between scrapes. See `metrics.test.ts`
 * for a job that moves each metric.
 */
export function prometheusRegistry(m: JobMetrics, status: () => string): Registry {
  const { Registry, collectDefaultMetrics } = require('prom-client') as typeof import('prom-client');
  const reg = new Registry();
  const job = m.job;
  const steps = () => [...m.steps.values()];
  const tasks = () => [...m.tasks.values()];
  const stepLabels = (s: { uid: string; subtask: number }): Labels => ({ job, step: s.uid, subtask: s.subtask });
  const add = (name: string, help: string, type: Type, read: () => Sample[] | Promise<Sample[]>) => reg.registerMetric(new ReadAtScrape(name, help, type, read) as never);
  const perStep = (name: string, help: string, type: 'counter' | 'gauge', value: (s: import('./step-metrics.js').StepMetrics) => number | undefined) =>
    add(name, help, type, () =>
      steps().flatMap((s) => {
        const v = value(s);
        return v === undefined ? [] : [{ labels: stepLabels(s), value: v }];
      }),
    );
  const perTask = (name: string, help: string, ms: (t: import('./step-metrics.js').TaskMetrics) => number) =>
    add(name, help, 'counter', () => tasks().map((t) => ({ labels: { job, task: t.name, subtask: t.subtask }, value: ms(t) / 1000 })));

  add('sluice_job_up', 'Whether the job is running (1) or not (0); the status label says which state it is in.', 'gauge', () => {
    const st = status();
    return [{ labels: { job, status: st }, value: st === 'running' ? 1 : 0 }];
  });
  add('sluice_job_restarts_total', 'Restarts of the job after failures.', 'counter', () => [{ labels: { job }, value: m.restarts }]);
  add(
    'sluice_storage_full_restarts_total',
    'Attempts that failed on a full disk (STORAGE_FULL: the on-disk state, a final checkpoint) and were restarted after a growing pause, outside the restart policy.',
    'counter',
    () => [{ labels: { job }, value: m.storageFullRestarts }],
  );

  perStep('sluice_records_in_total', 'Records a step received (for a source: records read).', 'counter', (s) => s.recordsIn);
  perStep('sluice_records_out_total', 'Records a step emitted (main and side outputs).', 'counter', (s) => s.recordsOut);
  perStep('sluice_errors_total', 'Records on which a step failed (user function threw, or bad input), whatever the policy did.', 'counter', (s) => s.errors);
  perStep('sluice_dead_letters_total', 'Records a step sent to the dead-letter output.', 'counter', (s) => s.deadLettered);
  perStep('sluice_late_records_dropped_total', 'Late records a step dropped (window, CEP and join steps).', 'counter', (s) => (s.operator && 'lateDropped' in s.operator ? s.lateDropped : undefined));
  perStep('sluice_late_records_side_output_total', 'Late records a step sent to its late-data side output (window, CEP and join steps).', 'counter', (s) =>
    s.operator && 'lateToSideOutput' in s.operator ? s.lateToSideOutput : undefined,
  );
  const asyncCounter = (name: string, help: string, field: 'timeouts' | 'retries' | 'failures' | 'degraded') =>
    perStep(name, help, 'counter', (s) => (s.operator && field in s.operator ? (s.operator as unknown as Record<string, number>)[field] : undefined));
  asyncCounter('sluice_async_timeouts_total', 'Attempts of an async step that timed out (this attempt of the job).', 'timeouts');
  asyncCounter('sluice_async_retries_total', 'Retries an async step made (this attempt of the job).', 'retries');
  asyncCounter('sluice_async_failures_total', "Records whose async call failed for good and went through the step's error policy (this attempt of the job).", 'failures');
  asyncCounter('sluice_async_degraded_total', "Records an async step gave its fallback's result because the dependency was unavailable (this attempt of the job).", 'degraded');
  perStep('sluice_async_in_flight', 'Records an async step holds: in flight or with results waiting for their turn.', 'gauge', (s) =>
    s.operator && 'inFlight' in s.operator ? (s.operator as unknown as { inFlight: number }).inFlight : undefined,
  );
  const cacheCounter = (name: string, help: string, field: 'cacheHits' | 'cacheMisses') =>
    perStep(name, help, 'counter', (s) => (s.operator && field in s.operator ? (s.operator as unknown as Record<string, number | undefined>)[field] : undefined));
  cacheCounter('sluice_lookup_cache_hits_total', "Records a lookup join answered from its cache (this attempt of the job).", 'cacheHits');
  cacheCounter('sluice_lookup_cache_misses_total', "Records a lookup join had to ask its table for (this attempt of the job).", 'cacheMisses');
  perStep('sluice_lookup_stale_total', 'Records a lookup join answered from an expired cache entry because its table was unavailable (this attempt of the job).', 'counter', (s) =>
    s.operator && 'staleServed' in s.operator ? (s.operator as unknown as { staleServed: number | undefined }).staleServed : undefined,
  );
  add('sluice_lookup_latency_seconds', "How long a lookup join's calls to its table took (per call, weighted by the keys asked in it; this attempt of the job).", 'histogram', () =>
    steps().flatMap((s) => {
      const h = s.operator && 'lookupLatency' in s.operator ? (s.operator as unknown as { lookupLatency: Histogram | undefined }).lookupLatency : undefined;
      return h ? histogramSamples('sluice_lookup_latency_seconds', h, stepLabels(s)) : [];
    }),
  );
  addDependencyMetrics(add, job);

  perStep('sluice_watermark_seconds', "The step's current event-time watermark (seconds since the epoch; +Inf after the end of input).", 'gauge', (s) =>
    s.watermark === Number.NEGATIVE_INFINITY ? undefined : s.watermark / 1000,
  );
  perStep('sluice_watermark_lag_seconds', 'Processing time minus the watermark: how far event time is behind.', 'gauge', (s) =>
    Number.isFinite(s.watermark) ? (m.clock.now() - s.watermark) / 1000 : undefined,
  );
  perStep('sluice_source_backlog_records', 'Records a source has yet to read, where the source can tell.', 'gauge', (s) => s.backlog?.());
  perStep('sluice_source_shed_total', 'Records a source with load shedding dropped while overloaded (sent to its side output when it has one).', 'counter', (s) =>
    s.overloaded === undefined ? undefined : s.shed,
  );
  perStep('sluice_source_overloaded', 'Whether a source with load shedding counts as overloaded now (1) or not (0).', 'gauge', (s) =>
    s.overloaded === undefined ? undefined : s.overloaded ? 1 : 0,
  );
  add('sluice_state_keys', "Keys in a step's keyed state.", 'gauge', () =>
    [...m.stateBackends()].map(([name, b]) => {
      // Backends are named by subtask: `uid`, or `uid#index` for a parallel step.
      const [uid, index] = name.split('#');
      return { labels: { job, step: uid!, subtask: Number(index ?? 0) }, value: b.size() };
    }),
  );
  // Disk and external backends (`KeyedStateBackend.stats`): cache, files, the last flush at the barrier.
  const backendStat = (name: string, help: string, type: 'gauge' | 'counter', f: (s: StateBackendStats) => number | undefined): void =>
    add(name, help, type, () =>
      [...m.stateBackends()].flatMap(([backend, b]) => {
        const stats = b.stats?.();
        const value = stats === undefined ? undefined : f(stats);
        if (value === undefined) return [];
        const [uid, index] = backend.split('#');
        return [{ labels: { job, step: uid!, subtask: Number(index ?? 0) }, value }];
      }),
    );
  backendStat('sluice_state_cache_hits_total', "Reads of keyed state the backend's cache answered (this attempt).", 'counter', (s) => s.cacheHits);
  backendStat('sluice_state_cache_misses_total', "Reads of keyed state that went past the backend's cache to its store (this attempt).", 'counter', (s) => s.cacheMisses);
  backendStat('sluice_state_disk_bytes', "Bytes of the keyed state backend's working files.", 'gauge', (s) => s.diskBytes);
  backendStat('sluice_state_flush_seconds', 'Time the last checkpoint took to write the changed state to the external store (Redis, Cassandra).', 'gauge', (s) => (s.lastFlush === undefined ? undefined : s.lastFlush.flushMs / 1000));
  backendStat('sluice_state_flush_round_trips', 'Requests the last checkpoint sent to the external store.', 'gauge', (s) => s.lastFlush?.roundTrips);
  add('sluice_latency_seconds', 'Time from a record being read at the source to reaching a sink (per batch, weighted by its records).', 'histogram', () =>
    steps().flatMap((s) => (s.latency ? histogramSamples('sluice_latency_seconds', s.latency, stepLabels(s)) : [])),
  );

  perTask('sluice_task_busy_seconds_total', 'Time a task spent processing.', (t) => t.busyMs);
  perTask('sluice_task_backpressured_seconds_total', 'Time a task waited for room in its outputs (backpressure).', (t) => t.backpressuredMs);
  perTask('sluice_task_idle_seconds_total', 'Time a task waited for input.', (t) => t.idleMs);

  add('sluice_channel_queue_fill_ratio', 'Batches queued in a channel over its capacity (1: full, the producer waits).', 'gauge', () =>
    m.channels.map((c) => ({ labels: { job, from: c.from, to: c.to }, value: c.channel.queuedBatches / c.channel.capacity })),
  );

  const cps = () => m.checkpoints();
  add('sluice_checkpoints_total', 'Checkpoints and savepoints by outcome.', 'counter', () => {
    let completed = 0;
    let failed = 0;
    for (const c of cps()) c.status === 'completed' ? completed++ : failed++;
    return [
      { labels: { job, status: 'completed' }, value: completed },
      { labels: { job, status: 'failed' }, value: failed },
    ];
  });
  add('sluice_checkpoint_duration_seconds', 'Time from triggering a checkpoint to its being durable.', 'histogram', () => {
    const h = new Histogram(CHECKPOINT_BOUNDS_SECONDS);
    for (const c of cps()) if (c.status === 'completed') h.observe(c.durationMs / 1000);
    return histogramSamples('sluice_checkpoint_duration_seconds', h, { job });
  });
  add('sluice_checkpoint_storage_failures_total', 'Checkpoints and savepoints the storage failed to write, by error code (STORAGE_FULL: no space left or quota used up).', 'counter', () => {
    const byCode = new Map<string, number>([
      ['STORAGE_FULL', 0],
      ['CHECKPOINT_FAILED', 0],
    ]);
    for (const c of cps()) if (c.storageFailure) byCode.set(c.storageFailure, (byCode.get(c.storageFailure) ?? 0) + 1);
    return [...byCode].map(([code, value]) => ({ labels: { job, code }, value }));
  });
  const last = () => [...cps()].reverse().find((c) => c.status === 'completed');
  add('sluice_checkpoint_last_size_bytes', 'Size of the last completed checkpoint.', 'gauge', () => {
    const c = last();
    return c ? [{ labels: { job }, value: c.sizeBytes }] : [];
  });
  add('sluice_checkpoint_last_alignment_seconds', 'Longest barrier alignment of the last completed checkpoint.', 'gauge', () => {
    const c = last();
    return c ? [{ labels: { job }, value: c.alignmentMs / 1000 }] : [];
  });
  add('sluice_checkpoint_last_duration_seconds', 'Duration of the last completed checkpoint.', 'gauge', () => {
    const c = last();
    return c ? [{ labels: { job }, value: c.durationMs / 1000 }] : [];
  });
  add('sluice_checkpoint_last_completed_timestamp_seconds', 'When the last checkpoint completed (seconds since the epoch).', 'gauge', () => {
    const c = last();
    return c ? [{ labels: { job }, value: (c.triggeredAt + c.durationMs) / 1000 }] : [];
  });

  if (m.cluster) addClusterMetrics(add, job, m.cluster);

  collectDefaultMetrics({ register: reg, prefix: 'sluice_' });
  return reg;
}

/**
 * The circuit breakers and bulkheads of the dependencies made in this process
 * (`dependency()`), labelled by job and dependency: read at scrape time.
 */
function addDependencyMetrics(add: (name: string, help: string, type: Type, read: () => Sample[]) => void, job: string): void {
  const each = (value: (d: ReturnType<typeof registeredDependencies>[number]) => Sample[]) => () => registeredDependencies().flatMap(value);
  const states = ['closed', 'open', 'half-open'] as const;
  add(
    'sluice_breaker_state',
    "A dependency's circuit breaker state: 1 for the state it is in (closed, open, half-open: a probe may go through), 0 for the others.",
    'gauge',
    each((d) => states.map((state) => ({ labels: { job, dependency: d.name, state }, value: d.state === state ? 1 : 0 }))),
  );
  add(
    'sluice_breaker_transitions_total',
    "Transitions of a dependency's circuit breaker, by the state it went to.",
    'counter',
    each((d) => states.map((state) => ({ labels: { job, dependency: d.name, to: state }, value: d.stats.transitions[state] }))),
  );
  add('sluice_breaker_rejected_total', 'Calls to a dependency refused at once because its breaker was open.', 'counter', each((d) => [{ labels: { job, dependency: d.name }, value: d.stats.rejectedOpen }]));
  add('sluice_bulkhead_rejected_total', "Calls to a dependency refused because its bulkhead was full.", 'counter', each((d) => [{ labels: { job, dependency: d.name }, value: d.stats.rejectedFull }]));
  add(
    'sluice_bulkhead_calls',
    "Calls in a dependency's bulkhead: running (state=active) and waiting for a slot (state=queued).",
    'gauge',
    each((d) => {
      const use = d.bulkheadUse;
      return [
        { labels: { job, dependency: d.name, state: 'active' }, value: use.active },
        { labels: { job, dependency: d.name, state: 'queued' }, value: use.queued },
      ];
    }),
  );
}

/**
 * The metrics of a cluster member (`sluice run … --cluster`), labelled by job, cluster and
 * member: none until the member has joined its group. All but the lag are plain figures
 * the member keeps; the lag is asked of the brokers at each scrape, within
 * {@link LAG_TIMEOUT_MS} (no samples when they do not answer in time).
 */
function addClusterMetrics(add: (name: string, help: string, type: Type, read: () => Sample[] | Promise<Sample[]>) => void, job: string, c: ClusterFiguresSource): void {
  const member = (value: (f: ClusterFigures, labels: Labels) => Sample[]) => () => {
    const f = c.figures();
    return f ? value(f, { job, cluster: c.cluster, member: f.member }) : [];
  };
  const one = (value: (f: ClusterFigures) => number | undefined) =>
    member((f, labels) => {
      const v = value(f);
      return v === undefined ? [] : [{ labels, value: v }];
    });
  add(
    'sluice_cluster_tasks',
    "The partitions the member's running attempt owns (1 each), by topic, partition and role (source: a topic the job reads; repartition: one of the cluster's repartition topics).",
    'gauge',
    member((f, labels) => f.tasks.map((t) => ({ labels: { ...labels, topic: t.topic, partition: t.partition, role: t.role }, value: 1 }))),
  );
  add('sluice_cluster_rebalances_total', "Rebalances of the cluster's group that moved this member's partitions.", 'counter', one((f) => f.rebalances));
  add(
    'sluice_cluster_rebalance_last_seconds',
    'How long the last rebalance that moved this member’s partitions took: from the member hearing its group rebalance (else getting its new assignment) to an attempt on the new assignment, its state restored, opening its sources.',
    'gauge',
    one((f) => (f.lastRebalanceMs === undefined ? undefined : f.lastRebalanceMs / 1000)),
  );
  add('sluice_cluster_restoring', "Whether an attempt of the member is reading its tasks' state from the changelog topics (1) or not (0).", 'gauge', one((f) => (f.restoring ? 1 : 0)));
  add('sluice_cluster_restore_entries_total', 'State entries (keys per state) the member restored from the changelog topics, over all restores.', 'counter', one((f) => f.restored.entries));
  add('sluice_cluster_restore_bytes_total', 'Bytes of task state the member restored from the changelog topics, over all restores.', 'counter', one((f) => f.restored.bytes));
  add('sluice_cluster_restore_local_tasks_total', "Tasks the member restored from a copy on its disk (its own last write, a standby replica) instead of reading the changelog topics, over all restores.", 'counter', one((f) => f.restored.local));
  add('sluice_cluster_standby_tasks', 'Task partitions of which the member keeps a standby replica (warm copy of their state).', 'gauge', one((f) => f.standbys.length));
  add('sluice_cluster_restore_seconds_total', "Time the member spent reading its tasks' state from the changelog topics, over all restores.", 'counter', one((f) => f.restored.ms / 1000));
  add(
    'sluice_cluster_lag_records',
    "Per partition the member owns: its end offset (last stable offset) minus the group's committed offset. Transaction markers count while records flow; a partition read to its end comes to 0 once the member has checkpointed.",
    'gauge',
    async () => {
      const f = c.figures();
      if (!f) return [];
      const labels = { job, cluster: c.cluster, member: f.member };
      return (await c.lag(LAG_TIMEOUT_MS)).map((p) => ({ labels: { ...labels, topic: p.topic, partition: p.partition, role: p.role }, value: p.lag }));
    },
  );
}
