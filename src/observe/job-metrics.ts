import type { CheckpointStats } from '../checkpoint/coordinator.js';
import type { Clock } from '../time/clock.js';
import type { StateBackendStats } from '../state/types.js';
import type { ClusterFiguresSource } from './cluster-figures.js';
import { dependencySnapshots, type DependencySnapshot } from './dependency-snapshot.js';
import { BatchContext, StepMetrics, TaskMetrics } from './step-metrics.js';
import { Tracer } from './tracing.js';

/** The counters of the subtasks in a worker thread, sent to the main thread (plain data). */
export interface RemoteMetrics {
  readonly steps: ReadonlyArray<{
    uid: string;
    kind: string;
    task: string;
    subtask: number;
    recordsIn: number;
    recordsOut: number;
    errors: number;
    deadLettered: number;
    lateDropped: number;
    lateToSideOutput: number;
    watermark: number;
    /** A source's load shedding (absent for other steps). */
    shed?: number;
    overloaded?: boolean;
  }>;
  readonly tasks: ReadonlyArray<{ name: string; subtask: number; busyMs: number; backpressuredMs: number; idleMs: number }>;
}

/** A channel between two steps, as metrics see it. */
export interface ChannelGauge {
  readonly from: string;
  readonly to: string;
  readonly channel: { readonly queuedBatches: number; readonly capacity: number };
}

/** The figures of a job at one moment, as JSON (`GET /jobs/:id/metrics`, the dashboard). */
export interface MetricsSnapshot {
  readonly job: string;
  /** Epoch ms (the job's clock). */
  readonly time: number;
  readonly steps: StepSnapshot[];
  readonly tasks: Array<{ name: string; subtask: number; busyMs: number; backpressuredMs: number; idleMs: number }>;
  readonly channels: Array<{ from: string; to: string; queuedBatches: number; capacity: number; fill: number }>;
  readonly checkpoints: { completed: number; failed: number; last: CheckpointStats | undefined };
  readonly restarts: number;
  /** The circuit breakers and bulkheads of the dependencies (see `dependency()`). */
  readonly dependencies: DependencySnapshot[];
}

/** The figures of one parallel instance of a step in a {@link MetricsSnapshot}. Counts run across restarts. */
export interface StepSnapshot {
  /** The step's uid. */
  readonly uid: string;
  /** The kind of step ('map', 'window', the source's kind, …). */
  readonly kind: string;
  /** The task (chain of steps) it runs in. */
  readonly task: string;
  /** Which parallel instance of the step, from 0. */
  readonly subtask: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  /** Throws of the step's function, and bad input of a source; dead-lettered ones included. */
  readonly errors: number;
  /** Records sent to the dead letters. */
  readonly deadLettered: number;
  /** Late records dropped. */
  readonly lateDropped: number;
  /** Late records sent to a late-data side output. */
  readonly lateToSideOutput: number;
  /** Event time (epoch ms); null before the first watermark, 'end' after the final one. */
  readonly watermark: number | null | 'end';
  /** Processing time minus watermark, in ms. */
  readonly watermarkLagMs: number | null;
  /** Keys in the step's keyed state. */
  readonly stateKeys: number | null;
  /** Records a source still has to read, where it can tell. */
  readonly backlog: number | null;
  /** Source-to-sink latency (sinks only), ms. */
  readonly latencyMs: { count: number; mean: number; p50: number; p95: number; p99: number } | null;
  /** Records a source with load shedding dropped; null for other steps. */
  readonly shed: number | null;
  /** Whether a source with load shedding is overloaded now; null for other steps. */
  readonly overloaded: boolean | null;
}

/**
 * The metrics of one job, across its restarts: step and task counters (plain numbers the
 * runtime adds to), plus live sources for gauges (channels, state, checkpoints) that are
 * read only when someone asks. `prometheus.ts` turns it into the Prometheus format and
 * `snapshot()` into JSON.
 */
export class JobMetrics {
  readonly context = new BatchContext();
  readonly steps = new Map<string, StepMetrics>();
  readonly tasks = new Map<string, TaskMetrics>();
  readonly tracer: Tracer | undefined;
  channels: ChannelGauge[] = [];
  /** Keyed state backends of the current attempt, by step uid. */
  stateBackends: () => ReadonlyMap<string, { size(): number; stats?(): StateBackendStats }> = () => new Map();
  /** Checkpoints of this run, oldest first. */
  checkpoints: () => readonly CheckpointStats[] = () => [];
  restarts = 0;
  /** Attempts that failed on a full disk (STORAGE_FULL) and were restarted after a pause, outside the restart policy. */
  storageFullRestarts = 0;
  /** The member's share of its cluster, when the job runs as a cluster member (`--cluster`); undefined otherwise. */
  readonly cluster: ClusterFiguresSource | undefined;

  constructor(
    readonly job: string,
    readonly clock: Clock,
    options: { traceEvery?: number; onSpan?: (span: import('./tracing.js').Span) => void; cluster?: ClusterFiguresSource } = {},
  ) {
    const every = options.traceEvery ?? 0;
    this.tracer = every > 0 ? new Tracer(job, every, 1000, options.onSpan) : undefined;
    this.cluster = options.cluster;
  }

  /** The counters of subtask `subtask` of step `uid` (made on first call, kept across restarts). */
  step(uid: string, kind: string, task: string, subtask = 0): StepMetrics {
    const id = subtask === 0 ? uid : `${uid}#${subtask}`;
    let s = this.steps.get(id);
    if (s === undefined) {
      s = new StepMetrics(uid, kind, task, subtask);
      this.steps.set(id, s);
    }
    return s;
  }

  /** The counters of task `name` (subtask `subtask` of a chain), which runs `steps` (head first). */
  task(name: string, steps: readonly StepMetrics[], subtask = 0): TaskMetrics {
    let t = this.tasks.get(name);
    if (t === undefined) {
      t = new TaskMetrics(name, this.context, steps, subtask);
      if (this.tracer) {
        const tracer = this.tracer;
        t.traceEvery = tracer.sampleEvery;
        t.onSpan = (id, task, start, end) => tracer.record(id, task, start, end);
      }
      this.tasks.set(name, t);
    }
    return t;
  }

  /** The counters of this thread, for the main thread of a parallel run (see `applyRemote`). */
  report(): RemoteMetrics {
    return {
      steps: [...this.steps.values()].map((s) => ({ ...stepCounters(s), watermark: s.watermark, ...(s.overloaded === undefined ? {} : { shed: s.shed, overloaded: s.overloaded }) })),
      tasks: [...this.tasks.values()].map(taskCounters),
    };
  }

  /** Takes in the counters a worker thread reported: its subtasks appear beside this thread's, labelled by subtask. */
  applyRemote(r: RemoteMetrics): void {
    for (const x of r.steps) {
      const s = this.step(x.uid, x.kind, x.task, x.subtask);
      s.recordsIn = x.recordsIn;
      s.recordsOut = x.recordsOut;
      s.errors = x.errors;
      s.deadLettered = x.deadLettered;
      s.lateDroppedBefore = 0;
      s.lateToSideOutputBefore = 0;
      s.operator = { watermark: x.watermark, lateDropped: x.lateDropped, lateToSideOutput: x.lateToSideOutput };
      if (x.overloaded !== undefined) {
        s.shed = x.shed ?? 0;
        s.overloaded = x.overloaded;
      }
    }
    for (const x of r.tasks) {
      const t = this.task(x.name, [], x.subtask);
      t.busyMs = x.busyMs;
      t.backpressuredMs = x.backpressuredMs;
      t.idleMs = x.idleMs;
    }
  }

  /** A new attempt starts: its channels replace the old ones. */
  beginAttempt(): void {
    this.channels = [];
  }

  addChannel(from: string, to: string, channel: ChannelGauge['channel']): void {
    this.channels.push({ from, to, channel });
  }

  snapshot(): MetricsSnapshot {
    const now = this.clock.now();
    const backends = this.stateBackends();
    const steps: StepSnapshot[] = [];
    for (const s of this.steps.values()) {
      const wm = s.watermark;
      const backend = backends.get(`${s.uid}#${s.subtask}`) ?? (s.subtask === 0 ? backends.get(s.uid) : undefined);
      const backlog = s.backlog?.();
      const h = s.latency;
      steps.push({
        ...stepCounters(s),
        watermark: wm === Number.POSITIVE_INFINITY ? 'end' : Number.isFinite(wm) ? wm : null,
        watermarkLagMs: Number.isFinite(wm) ? now - wm : null,
        stateKeys: backend ? keysIn(backend) : null,
        backlog: backlog ?? null,
        latencyMs:
          h && h.count > 0
            ? { count: h.count, mean: (h.sum / h.count) * 1000, p50: h.quantile(0.5)! * 1000, p95: h.quantile(0.95)! * 1000, p99: h.quantile(0.99)! * 1000 }
            : null,
        shed: s.overloaded === undefined ? null : s.shed,
        overloaded: s.overloaded ?? null,
      });
    }
    const cps = this.checkpoints();
    let completed = 0;
    let failed = 0;
    for (const c of cps) c.status === 'completed' ? completed++ : failed++;
    return {
      job: this.job,
      time: now,
      steps,
      tasks: [...this.tasks.values()].map(taskCounters),
      channels: this.channels.map((c) => ({
        from: c.from,
        to: c.to,
        queuedBatches: c.channel.queuedBatches,
        capacity: c.channel.capacity,
        fill: c.channel.queuedBatches / c.channel.capacity,
      })),
      checkpoints: { completed, failed, last: cps[cps.length - 1] },
      restarts: this.restarts,
      dependencies: dependencySnapshots(),
    };
  }
}

/**
 * The keys a backend holds, for the gauge; null when it cannot tell. Read by the sampler's
 * timer, outside any task, possibly while the attempt closes its backends (a restart): a
 * throw there would be an uncaught exception that ends the process.
 */
function keysIn(backend: { size(): number }): number | null {
  try {
    return backend.size();
  } catch {
    return null;
  }
}

/** A step's counters as plain data (the JSON snapshot and a worker's report share them). */
function stepCounters(s: StepMetrics) {
  return {
    uid: s.uid,
    kind: s.kind,
    task: s.task,
    subtask: s.subtask,
    recordsIn: s.recordsIn,
    recordsOut: s.recordsOut,
    errors: s.errors,
    deadLettered: s.deadLettered,
    lateDropped: s.lateDropped,
    lateToSideOutput: s.lateToSideOutput,
  };
}

/** A task's time counters as plain data. */
function taskCounters(t: TaskMetrics) {
  return { name: t.name, subtask: t.subtask, busyMs: t.busyMs, backpressuredMs: t.backpressuredMs, idleMs: t.idleMs };
}
