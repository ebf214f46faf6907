import type { Batch } from './batch.js';

/** Where an operator's results go: the next operator in its chain, or a channel to another task. */
export interface Output<T> {
  emitBatch(batch: Batch<T>): void;
  emitWatermark(watermark: number): void;
  emitIdle(idle: boolean): void;
  /** The end of input: after the final watermark, nothing more follows. */
  emitEnd(): void;
}

/** Drops everything: the output of a stream nobody consumes. */
export const DISCARD: Output<unknown> = {
  emitBatch() {},
  emitWatermark() {},
  emitIdle() {},
  emitEnd() {},
};

/** Sends everything to several outputs (a stream consumed by several steps). */
export class BroadcastingOutput<T> implements Output<T> {
  constructor(protected readonly targets: Output<T>[]) {}
  emitBatch(batch: Batch<T>): void {
    for (const t of this.targets) t.emitBatch(batch);
  }
  emitWatermark(watermark: number): void {
    for (const t of this.targets) t.emitWatermark(watermark);
  }
  emitIdle(idle: boolean): void {
    for (const t of this.targets) t.emitIdle(idle);
  }
  emitEnd(): void {
    for (const t of this.targets) t.emitEnd();
  }
}

/** Picks the cheapest output for a list of targets. */
export function outputOf<T>(targets: Output<T>[]): Output<T> {
  if (targets.length === 0) return DISCARD as Output<T>;
  if (targets.length === 1) return targets[0]!;
  return new BroadcastingOutput(targets);
}

/**
 * An operator's outputs: the main stream and the side outputs by tag id. Control events
 * (watermarks, idleness, end) go to all of them, as in Flink.
 */
export class OperatorOutputs<O> {
  constructor(
    readonly main: Output<O>,
    readonly sides: ReadonlyMap<string, Output<unknown>>,
  ) {}
  side(tagId: string): Output<unknown> {
    return this.sides.get(tagId) ?? (DISCARD as Output<unknown>);
  }
  watermark(watermark: number): void {
    this.main.emitWatermark(watermark);
    for (const s of this.sides.values()) s.emitWatermark(watermark);
  }
  idle(idle: boolean): void {
    this.main.emitIdle(idle);
    for (const s of this.sides.values()) s.emitIdle(idle);
  }
  end(): void {
    this.main.emitEnd();
    for (const s of this.sides.values()) s.emitEnd();
  }
}
