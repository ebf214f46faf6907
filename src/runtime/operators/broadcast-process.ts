import type { BroadcastContext, BroadcastProcessFunction, BroadcastReadOnlyContext } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import type { BroadcastState, MapStateDescriptor } from '../../state/types.js';
import { hasTimestamp, type Batch } from '../batch.js';
import { Operator, type OperatorRuntime } from '../operator.js';
import type { OperatorOutputs } from '../output.js';
import { BroadcastStates, type BroadcastStateDescriptor, type BroadcastStateSnapshot } from './broadcast-state.js';
import { TimestampedCollector } from './timestamped-collector.js';
import { openContext } from './process.js';

/** The state of a broadcast step without keys. */
export interface BroadcastProcessSnapshot {
  readonly broadcast: BroadcastStateSnapshot;
}

/** Both contexts: `processElement` gets the one over read-only views, `processBroadcastElement` the writable one. */
class Context implements BroadcastReadOnlyContext, BroadcastContext {
  timestamp: number | undefined = undefined;
  constructor(
    private readonly op: BroadcastProcessOperator<any, any, any>,
    private readonly collector: TimestampedCollector<any>,
    private readonly states: BroadcastStates,
    private readonly writable: boolean,
  ) {}
  currentWatermark(): number {
    return this.op.watermark;
  }
  currentProcessingTime(): number {
    return this.op.now();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.collector.side(tag, value);
  }
  getBroadcastState<MK, V>(descriptor: MapStateDescriptor<MK, V>): BroadcastState<MK, V> {
    // processElement's context is typed BroadcastReadOnlyContext, whose state has no
    // writes; a cast that reaches them anyway meets BROADCAST_STATE_READ_ONLY.
    return this.writable ? this.states.writable(descriptor) : (this.states.readOnly(descriptor) as BroadcastState<MK, V>);
  }
}

/**
 * Runs a {@link BroadcastProcessFunction}: input 0 is the main stream, input 1 the
 * broadcast stream (every parallel instance receives all of it). The state is the
 * broadcast state alone; on rescaling every new instance takes it from any old one.
 */
export class BroadcastProcessOperator<I, B, O> extends Operator<I | B, O> {
  private readonly collector = new TimestampedCollector<O>();
  private states!: BroadcastStates;
  private readCtx!: Context;
  private writeCtx!: Context;

  constructor(
    private readonly fn: BroadcastProcessFunction<I, B, O>,
    private readonly descriptors: readonly BroadcastStateDescriptor[],
  ) {
    super();
  }

  override setup(rt: OperatorRuntime, out: OperatorOutputs<O>): void {
    super.setup(rt, out);
    this.states = new BroadcastStates(rt.uid, this.descriptors);
  }
  /** @internal Processing time, for the contexts. */
  now(): number {
    return this.rt.clock.now();
  }
  override initializeState(state: unknown): void {
    this.states.restore((state as BroadcastProcessSnapshot).broadcast);
  }
  /** Every old instance held the same broadcast state: take the first. */
  override initializeStateParts(parts: readonly unknown[]): void {
    const first = parts.find((p) => p !== undefined) as BroadcastProcessSnapshot | undefined;
    if (first !== undefined) this.states.restore(first.broadcast);
  }
  override snapshotState(): BroadcastProcessSnapshot {
    return { broadcast: this.states.snapshot() };
  }
  override open(): void {
    this.readCtx = new Context(this, this.collector, this.states, false);
    this.writeCtx = new Context(this, this.collector, this.states, true);
    this.fn.open?.(openContext(this.rt.uid));
  }

  processBatch(batch: Batch<I | B>, input: number): void {
    const { values, timestamps } = batch;
    const { fn, collector } = this;
    const main = input === 0;
    const ctx = main ? this.readCtx : this.writeCtx;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const ts = timestamps[i]!;
      ctx.timestamp = hasTimestamp(ts) ? ts : undefined;
      collector.timestamp = ts;
      try {
        if (main) fn.processElement(v as I, ctx, collector);
        else fn.processBroadcastElement(v as B, ctx, collector);
      } catch (error) {
        this.rt.userError(error, v, ts, main ? 'processElement' : 'processBroadcastElement');
      }
    }
    collector.flush(this.out);
  }

  override close(): void {
    this.fn.close?.();
  }
}
