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

/** The loop of one fused run over a batch: fills `outV` (and `outT`) and returns how many records it put there. */
type RunLoop = (values: readonly unknown[], timestamps: readonly number[], outV: unknown[], outT: number[]) => number;

/**
 * Writes the loop of a run of `kinds` as JavaScript and compiles it, once per run (per
 * chain and subtask): every user function is called from a call site of its own, which
 * V8 then sees called with one function only and inlines, as in a hand-written loop. A
 * loop shared by every run (a loop over the steps, or closures calling closures) sees
 * every job's functions at the same call sites and calls them through the slow, generic
 * path (`bench/core.ts`, map-filter). The code is made from the kinds alone, never from
 * user input.
 */
function compileLoop(kinds: readonly FusibleKind[], counted: boolean, stampAt: number, positions: readonly number[]): (fns: readonly Function[], errors: readonly Function[], words: Int32Array, passed: Int32Array) => RunLoop {
  const mapsOnly = kinds.every((k) => k === 'map');
  let body = 'let k = 0;\nconst n = values.length;\nL0: for (let i = 0; i < n; i++) {\nconst t = timestamps[i];\nlet v0 = values[i];\n';
  let loop = 'L0';
  let closers = '}\n';
  kinds.forEach((kind, s) => {
    const v = `v${s}`;
    const next = `v${s + 1}`;
    const count = counted && s < kinds.length - 1;
    body += `words[${stampAt}] = ${positions[s]};\n`;
    if (kind === 'map') {
      body += `let ${next};\ntry { ${next} = f${s}(${v}); } catch (e) { e${s}(e, ${v}, t, ${JSON.stringify(WHAT.map)}); continue ${loop}; }\n`;
      if (count) body += `passed[${s}]++;\n`;
    } else if (kind === 'filter') {
      body += `let keep${s};\ntry { keep${s} = f${s}(${v}); } catch (e) { e${s}(e, ${v}, t, ${JSON.stringify(WHAT.filter)}); continue ${loop}; }\nif (!keep${s}) continue ${loop};\n`;
      if (count) body += `passed[${s}]++;\n`;
      body += `const ${next} = ${v};\n`;
    } else {
      body += `let a${s};\ntry { const r = f${s}(${v}); a${s} = Array.isArray(r) ? r : [...r]; } catch (e) { e${s}(e, ${v}, t, ${JSON.stringify(WHAT.flatMap)}); continue ${loop}; }\n`;
      if (count) body += `passed[${s}] += a${s}.length;\n`;
      loop = `L${s + 1}`;
      body += `${loop}: for (let j${s} = 0; j${s} < a${s}.length; j${s}++) {\nconst ${next} = a${s}[j${s}];\n`;
      closers += '}\n';
    }
  });
  body += `outV[k] = v${kinds.length};\n${mapsOnly ? '' : 'outT[k] = t;\n'}k++;\n`;
  body += closers + 'return k;';
  const params = [...kinds.map((_, s) => `f${s}`), ...kinds.map((_, s) => `e${s}`), 'words', 'passed'];
  const factory = new Function(...params, `return function fusedRun(values, timestamps, outV, outT) {\n${body}\n};`);
  return (fns, errors, words, passed) => factory(...fns, ...errors, words, passed) as RunLoop;
}

type FusibleKind = FusibleStep['fusion']['kind'];

/**
 * Runs consecutive stateless steps of a chain (map, filter, flatMap) as one function per
 * record, in place of the {@link ChainedOutput} into the first: the record goes through
 * every step's function before the next record starts (as Flink's chained operators do),
 * without an intermediate batch per step. The steps stay themselves otherwise: a throw is
 * reported by the step that threw (its name, its policy, its dead letters), the watchdog
 * sees which step runs, and metrics count each step's records in and out per batch.
 * Watermarks, idleness and the end still go through `chained`, step by step.
 * `emit` gives the last step's main output. See `fused-output.test.ts`.
 */
export class FusedOutput<T> implements Output<T> {
  private readonly words: Int32Array;
  private readonly stepAt: number;
  private readonly loop: RunLoop;
  /** Records that left each stage in the current batch, when metrics count (the last stage's go through its metered output). */
  private readonly passed: Int32Array;
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
    const kinds = stages.map((s) => s.step.fusion.kind);
    this.mapsOnly = kinds.every((k) => k === 'map');
    const counted = stages[0]!.metrics !== undefined;
    this.loop = compileLoop(kinds, counted, this.stepAt, stages.map((s) => s.position))(
      stages.map((s) => s.step.fusion.fn),
      stages.map((s) => s.userError),
      this.words,
      this.passed,
    );
  }

  emitBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const n = values.length;
    if (n === 0) return;
    const first = this.stages[0]!.metrics;
    if (first !== undefined) stepIn(first, n, this.context!);
    const outV = new Array<unknown>(n);
    const outT = this.mapsOnly ? timestamps : new Array<number>(n);
    let k: number;
    try {
      k = this.loop(values, timestamps, outV, outT);
    } finally {
      this.words[this.stepAt] = this.from;
    }
    this.count(n);
    if (k === 0) return;
    if (outV.length !== k) outV.length = k;
    if (!this.mapsOnly && outT.length !== k) outT.length = k;
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
