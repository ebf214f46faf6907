import type { Batch } from './batch.js';
import { stepIn, type BatchContext, type StepMetrics } from '../observe/step-metrics.js';
import type { Output } from './output.js';
import { STEP, type StepStamp } from './watchdog/step-stamps.js';

/** What a stateless step (map, filter, flatMap) lends to a fused run: its kind and user function. */
export interface FusibleStep {
  readonly fusion: { readonly kind: 'map' | 'filter' | 'flatMap'; readonly fn: (value: any) => unknown };
}

/** One step of a fused run, as {@link FusedOutput} calls it. */
export interface FusedStage {
  readonly step: FusibleStep;
  /** The step's position in its chain (stamped for the watchdog while its function runs). */
  readonly position: number;
  /** Reports a throw of the step's function (fails the job or dead-letters the record, by the step's policy). */
  readonly userError: (error: unknown, record: unknown, timestamp: number, what: string) => void;
  /** With metrics on: the step's counters. */
  readonly metrics?: StepMetrics | undefined;
}

const WHAT = { map: 'map function', filter: 'filter predicate', flatMap: 'flatMap function' } as const;

/**
 * Runs consecutive stateless steps of a chain (map, filter, flatMap) as one function per
 * record, in place of the {@link ChainedOutput} into the first: the record goes through
 * every step's function before the next record starts (as Flink's chained operators do),
 * without an intermediate batch per step. The steps stay themselves otherwise: a throw is
 * reported by the step that threw (its name, its policy, its dead letters), the watchdog
 * sees which step runs, and metrics count each step's records in and out per batch.
 * Watermarks, idleness and the end still go through `chained`, step by step.
 * `emit` is the last step's main output. See `fused-output.test.ts`.
 */
export class FusedOutput<T> implements Output<T> {
  private readonly words: Int32Array;
  private readonly stepAt: number;
  private readonly head: (value: unknown) => void;
  /** Records that left each stage in the current batch, when metrics count (the last stage's go through its metered output). */
  private readonly passed: Int32Array;
  private outV: unknown[] = [];
  private outT: number[] = [];
  private k = 0;
  private ts = 0;
  /** Only maps: the output shares the input's timestamps. */
  private readonly mapsOnly: boolean;

  constructor(
    private readonly chained: Output<T>,
    private readonly stages: readonly FusedStage[],
    private readonly emit: () => Output<unknown>,
    stamp: StepStamp,
    /** The position of the step that emits into the run. */
    private readonly from: number,
    private readonly context: BatchContext | undefined,
  ) {
    this.words = stamp.words;
    this.stepAt = stamp.at + STEP;
    this.passed = new Int32Array(stages.length);
    this.mapsOnly = stages.every((s) => s.step.fusion.kind === 'map');
    let next: (value: unknown) => void = this.mapsOnly
      ? (v) => {
          this.outV[this.k++] = v;
        }
      : (v) => {
          const k = this.k++;
          this.outV[k] = v;
          this.outT[k] = this.ts;
        };
    for (let i = stages.length - 1; i >= 0; i--) next = this.stage(i, next);
    this.head = next;
  }

  /** Stage `i` calling `next` with what it passes on. */
  private stage(i: number, next: (value: unknown) => void): (value: unknown) => void {
    const { step, position, userError, metrics } = this.stages[i]!;
    const { kind, fn } = step.fusion;
    const words = this.words;
    const at = this.stepAt;
    const passed = this.passed;
    const count = metrics !== undefined && i < this.stages.length - 1;
    const what = WHAT[kind];
    if (kind === 'map') {
      return (v) => {
        words[at] = position;
        let r: unknown;
        try {
          r = fn(v);
        } catch (error) {
          userError(error, v, this.ts, what);
          return;
        }
        if (count) passed[i]!++;
        next(r);
      };
    }
    if (kind === 'filter') {
      return (v) => {
        words[at] = position;
        let keep: unknown;
        try {
          keep = fn(v);
        } catch (error) {
          userError(error, v, this.ts, what);
          return;
        }
        if (keep) {
          if (count) passed[i]!++;
          next(v);
        }
      };
    }
    return (v) => {
      words[at] = position;
      let results: unknown[];
      try {
        const r = fn(v) as Iterable<unknown>;
        results = Array.isArray(r) ? r : [...r];
      } catch (error) {
        userError(error, v, this.ts, what);
        return;
      }
      if (count) passed[i]! += results.length;
      for (let j = 0; j < results.length; j++) next(results[j]);
    };
  }

  emitBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const n = values.length;
    if (n === 0) return;
    const first = this.stages[0]!.metrics;
    if (first !== undefined) stepIn(first, n, this.context!);
    this.outV = new Array(n);
    if (!this.mapsOnly) this.outT = new Array(n);
    this.k = 0;
    const head = this.head;
    try {
      for (let i = 0; i < n; i++) {
        this.ts = timestamps[i]!;
        head(values[i]);
      }
    } finally {
      this.words[this.stepAt] = this.from;
    }
    this.count(n);
    const k = this.k;
    if (k === 0) return;
    const outV = this.outV;
    if (outV.length !== k) outV.length = k;
    let outT: number[];
    if (this.mapsOnly) outT = timestamps;
    else {
      outT = this.outT;
      if (outT.length !== k) outT.length = k;
    }
    this.emit().emitBatch({ values: outV, timestamps: outT });
  }

  /** Adds the batch's counts to each step's metrics: what one stage passed on is what the next received. */
  private count(n: number): void {
    if (this.stages[0]!.metrics === undefined) return;
    let received = n;
    for (let i = 0; i < this.stages.length - 1; i++) {
      const out = this.passed[i]!;
      this.passed[i] = 0;
      this.stages[i]!.metrics!.recordsOut += out;
      if (i > 0) stepIn(this.stages[i]!.metrics!, received, this.context!);
      received = out;
    }
    const last = this.stages[this.stages.length - 1]!.metrics!;
    if (this.stages.length > 1) stepIn(last, received, this.context!);
  }

  emitWatermark(watermark: number): void {
    this.chained.emitWatermark(watermark);
  }
  emitIdle(idle: boolean): void {
    this.chained.emitIdle(idle);
  }
  emitEnd(): void {
    this.chained.emitEnd();
  }
}
