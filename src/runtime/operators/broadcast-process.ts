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
    private readonly operator: BroadcastProcessOperator<any, any, any>,
    private readonly collector: TimestampedCollector<any>,
    private readonly states: BroadcastStates,
    private readonly writable: boolean,
  ) {}
  currentWatermark(): number {
    return this.operator.watermark;
  }
  currentProcessingTime(): number {
    return this.operator.now();
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
  private readContext!: Context;
  private writeContext!: Context;

  constructor(
    private readonly userFunction: BroadcastProcessFunction<I, B, O>,
    private readonly descriptors: readonly BroadcastStateDescriptor[],
  ) {
    super();
  }

  override setup(runtime: OperatorRuntime, out: OperatorOutputs<O>): void {
    super.setup(runtime, out);
    this.states = new BroadcastStates(runtime.uid, this.descriptors);
  }
  /** @internal Processing time, for the contexts. */
  now(): number {
    return this.runtime.clock.now();
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
    this.readContext = new Context(this, this.collector, this.states, false);
    this.writeContext = new Context(this, this.collector, this.states, true);
    this.userFunction.open?.(openContext(this.runtime.uid));
  }

  processBatch(batch: Batch<I | B>, input: number): void {
    const { values, timestamps } = batch;
    const { userFunction, collector } = this;
    const main = input === 0;
    const context = main ? this.readContext : this.writeContext;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const timestamp = timestamps[i]!;
      context.timestamp = hasTimestamp(timestamp) ? timestamp : undefined;
      collector.timestamp = timestamp;
      try {
        if (main) userFunction.processElement(v as I, context, collector);
        else userFunction.processBroadcastElement(v as B, context, collector);
      } catch (error) {
        this.runtime.userError(error, v, timestamp, main ? 'processElement' : 'processBroadcastElement');
      }
    }
    collector.flush(this.out);
  }

  override close(): void {
    this.userFunction.close?.();
  }
}
