import { Histogram, LATENCY_BOUNDS_SECONDS } from './histogram.js';

/**
 * The counters of one subtask of a step, as plain numbers the runtime adds to
 * once per batch. Nothing here allocates or formats: collectors read the numbers at
 * scrape time (`prometheus.ts`, `job-metrics.ts`). This file imports nothing, so the
 * runtime can write into it without depending on the rest of `observe/`.
 */
export class StepMetrics {
  recordsIn = 0;
  recordsOut = 0;
  /** User-function throws and bad input, whatever the policy did with them. */
  errors = 0;
  /** Records sent to the dead-letter output. */
  deadLettered = 0;
  /** The highest watermark the step has emitted. */
  watermarkOut = Number.NEGATIVE_INFINITY;
  /** Latency from source read to this step, for sinks only. */
  readonly latency: Histogram | undefined;
  /** The operator of the current attempt (read at scrape time: its watermark and late counters). */
  operator: LiveOperator | undefined;
  /** Late counters of the operators of earlier attempts, so that the totals never go back. */
  lateDroppedBefore = 0;
  lateToSideOutputBefore = 0;
  /** Set on source steps whose reader can tell how much is left. */
  backlog: (() => number | undefined) | undefined;
  /** Source steps with load shedding: records shed, and whether the source is overloaded now. */
  shed = 0;
  overloaded: boolean | undefined;

  constructor(
    readonly uid: string,
    readonly kind: string,
    /** The task (chain) that runs the step. */
    readonly task: string,
    readonly subtask = 0,
  ) {
    this.latency = kind === 'sink' ? new Histogram(LATENCY_BOUNDS_SECONDS) : undefined;
  }

  /** Attaches the operator of a new attempt, keeping the late counts of the one before. */
  attach(op: LiveOperator | undefined): void {
    if (this.operator) {
      this.lateDroppedBefore += this.operator.lateDropped ?? 0;
      this.lateToSideOutputBefore += this.operator.lateToSideOutput ?? 0;
    }
    this.operator = op;
  }

  get lateDropped(): number {
    return this.lateDroppedBefore + (this.operator?.lateDropped ?? 0);
  }
  get lateToSideOutput(): number {
    return this.lateToSideOutputBefore + (this.operator?.lateToSideOutput ?? 0);
  }
  /** The step's current watermark: what it emitted, or (a sink) what it received. */
  get watermark(): number {
    const w = this.operator?.watermark ?? Number.NEGATIVE_INFINITY;
    return w > this.watermarkOut ? w : this.watermarkOut;
  }
}

/** What metrics read of a live operator (window operators count late records). */
export interface LiveOperator {
  readonly watermark: number;
  readonly lateDropped?: number;
  readonly lateToSideOutput?: number;
}

/** Where one task's time goes, in milliseconds: processing, waiting for room downstream, waiting for input. */
export class TaskMetrics {
  busyMs = 0;
  backpressuredMs = 0;
  idleMs = 0;
  /** Tracing: every `traceEvery`-th batch a source reads gets a trace id (0: off). */
  traceEvery = 0;
  /** Told of the task's work on a traced batch (a span). */
  onSpan: ((traceId: string, task: string, startMs: number, endMs: number) => void) | undefined;
  private reads = 0;

  constructor(
    readonly name: string,
    /** The job-wide context of the batch being processed (read time, trace). */
    readonly context: BatchContext,
    /** The steps the task runs, head first. */
    readonly steps: readonly StepMetrics[],
    readonly subtask = 0,
  ) {}

  /** The head step took a batch of `n` records carrying `readAt` / `traceId` (from a channel). */
  batchIn(n: number, readAt: number | undefined, traceId: string | undefined): void {
    const ctx = this.context;
    ctx.readAt = readAt ?? performance.now();
    ctx.traceId = traceId;
    const head = this.steps[0];
    if (head) stepIn(head, n, ctx);
  }

  /** The task handles a control event or a timer: what it emits now starts its latency now. */
  control(): void {
    this.context.readAt = performance.now();
    this.context.traceId = undefined;
  }

  /** A source task read a batch: its records are read now; every `traceEvery`-th one is traced. */
  sourceRead(): void {
    const ctx = this.context;
    ctx.readAt = performance.now();
    ctx.traceId = this.traceEvery > 0 && ++this.reads % this.traceEvery === 0 ? newTraceId() : undefined;
  }

  /** The task finished handling its input since `startMs` (a `performance.now()` time). */
  processed(startMs: number): void {
    const end = performance.now();
    this.busyMs += end - startMs;
    const t = this.context.traceId;
    if (t !== undefined && this.onSpan !== undefined) this.onSpan(t, this.name, startMs, end);
  }
}

/** A W3C-style trace id: 32 hex digits. */
function newTraceId(): string {
  let s = '';
  for (let i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return s;
}

/** A step received `n` records while the job processes the batch in `ctx`. */
export function stepIn(step: StepMetrics, n: number, ctx: BatchContext): void {
  step.recordsIn += n;
  if (step.latency !== undefined && ctx.readAt === ctx.readAt) step.latency.observe((performance.now() - ctx.readAt) / 1000, n);
}

/**
 * What the job is processing right now: when its records were read at the source (a
 * `performance.now()` time) and their trace id, if sampled. Tasks share one event loop
 * and a chain runs synchronously, so one object per job is enough: a task sets it when
 * it takes a batch, and channel writers copy it onto the batches they send on.
 */
export class BatchContext {
  readAt = Number.NaN;
  traceId: string | undefined = undefined;
}
