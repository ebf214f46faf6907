import type {
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  KeyedBroadcastReadOnlyContext,
  TimerService,
} from '../../core/functions.js';
import type { BroadcastState, Key, MapStateDescriptor, ReadOnlyBroadcastState, StateDescriptor, StateOf } from '../../state/types.js';
import { hasTimestamp, type Batch } from '../batch.js';
import type { OperatorRuntime } from '../operator.js';
import type { OperatorOutputs } from '../output.js';
import { BroadcastStates, type BroadcastStateDescriptor, type BroadcastStateSnapshot } from './broadcast-state.js';
import { KeyedOperator } from './keyed-operator.js';
import { ScopeContext, type KeyedScope, type KeyedScopeSnapshot } from './keyed-scope.js';

/**
 * The state of a keyed broadcast step: the keyed scope's snapshot (state and timers),
 * so that KeyedOperator's restore and key-group filtering apply to it unchanged, plus
 * the broadcast state.
 */
export interface KeyedBroadcastProcessSnapshot extends KeyedScopeSnapshot {
  readonly broadcast: BroadcastStateSnapshot;
}

/** The context of main records and timers: the scope's key, timers and time, broadcast state read only. */
class ReadOnlyContext<K extends Key> extends ScopeContext<K> implements KeyedBroadcastReadOnlyContext<K>, KeyedBroadcastOnTimerContext<K> {
  constructor(
    scope: KeyedScope<K, any>,
    private readonly states: BroadcastStates,
  ) {
    super(scope);
  }
  get key(): K {
    return this.scope.context.key;
  }
  get timestamp(): number | undefined {
    return this.scope.context.timestamp;
  }
  get timeDomain(): 'event-time' | 'processing-time' {
    return this.scope.context.timeDomain;
  }
  get timerService(): TimerService {
    return this.scope.context.timerService;
  }
  getBroadcastState<MK, V>(descriptor: MapStateDescriptor<MK, V>): ReadOnlyBroadcastState<MK, V> {
    // Typed without writes; a cast that reaches them anyway meets BROADCAST_STATE_READ_ONLY.
    return this.states.readOnly(descriptor);
  }
}

/** The context of broadcast records: no current key; writable broadcast state; every key's state through applyToKeyedState. */
class BroadcastElementContext<K extends Key> extends ScopeContext<K> implements KeyedBroadcastContext<K> {
  timestamp: number | undefined = undefined;
  constructor(
    scope: KeyedScope<K, any>,
    private readonly states: BroadcastStates,
  ) {
    super(scope);
  }
  getBroadcastState<MK, V>(descriptor: MapStateDescriptor<MK, V>): BroadcastState<MK, V> {
    return this.states.writable(descriptor);
  }
  applyToKeyedState<D extends StateDescriptor>(descriptor: D, visit: (key: K, state: StateOf<D>) => void): void {
    // Declared through the scope, so that the state's version goes into snapshots.
    const state = this.scope.openContext.state(descriptor);
    const timestamp = this.scope.collector.timestamp;
    // The keys are listed first: `visit` may clear state (or add to it) while we go through them.
    for (const key of this.scope.backend.keys(descriptor.name)) {
      this.scope.setKey(key as K, timestamp);
      visit(key as K, state);
    }
  }
}

/**
 * Runs a {@link KeyedBroadcastProcessFunction}. Input 0 is the keyed main stream (each
 * record's key made current, as in a keyed process function); input 1 the broadcast
 * stream, which every parallel instance receives whole and applies to its own copy of
 * the broadcast state.
 *
 * Restoring at another parallelism: the keyed part of every old instance's snapshot goes
 * to KeyedOperator, which keeps the keys of this instance's key groups; the broadcast
 * part is the same in every old instance, so the first one present is taken.
 */
export class KeyedBroadcastProcessOperator<K extends Key, I, B, O> extends KeyedOperator<I | B, K, O> {
  private states!: BroadcastStates;
  private readContext!: ReadOnlyContext<K>;
  private writeContext!: BroadcastElementContext<K>;

  constructor(
    private readonly userFunction: KeyedBroadcastProcessFunction<K, I, B, O>,
    private readonly keySelector: (value: I) => K,
    private readonly descriptors: readonly BroadcastStateDescriptor[],
  ) {
    super();
  }

  override setup(runtime: OperatorRuntime, out: OperatorOutputs<O>): void {
    super.setup(runtime, out);
    this.states = new BroadcastStates(runtime.uid, this.descriptors);
  }

  protected openKeyed(): void {
    const userFunction = this.userFunction;
    const scope = this.openScope((timestamp) => userFunction.onTimer?.(timestamp, this.readContext, scope.collector));
    this.readContext = new ReadOnlyContext(scope, this.states);
    this.writeContext = new BroadcastElementContext(scope, this.states);
    userFunction.open?.(scope.openContext);
  }

  override initializeState(state: unknown): void {
    const s = state as Partial<KeyedBroadcastProcessSnapshot>;
    if (s.broadcast !== undefined) this.states.restore(s.broadcast);
    const keyed = keyedPart(s);
    if (keyed !== undefined) super.initializeState(keyed);
  }

  override initializeStateParts(parts: readonly unknown[]): void {
    const snapshots = parts as ReadonlyArray<Partial<KeyedBroadcastProcessSnapshot> | undefined>;
    const withBroadcast = snapshots.find((p) => p?.broadcast !== undefined);
    if (withBroadcast !== undefined) this.states.restore(withBroadcast.broadcast!);
    super.initializeStateParts(snapshots.map((p) => (p === undefined ? undefined : keyedPart(p))));
  }

  override snapshotState(checkpointId?: number): KeyedBroadcastProcessSnapshot | Promise<KeyedBroadcastProcessSnapshot> {
    const broadcast = this.states.snapshot();
    const keyed = super.snapshotState(checkpointId);
    return keyed instanceof Promise ? keyed.then((k) => ({ ...k, broadcast })) : { ...keyed, broadcast };
  }

  processBatch(batch: Batch<I | B>, input: number): void {
    if (input === 0) this.processMain(batch as Batch<I>);
    else this.processBroadcast(batch as Batch<B>);
    this.scope.collector.flush(this.out);
  }

  private processMain(batch: Batch<I>): void {
    const { userFunction, scope, readContext } = this;
    this.forEachKeyed(batch, this.keySelector, 'processElement', (v) => userFunction.processElement(v, readContext, scope.collector));
  }

  private processBroadcast(batch: Batch<B>): void {
    const { values, timestamps } = batch;
    const { userFunction, scope, writeContext } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const timestamp = timestamps[i]!;
      writeContext.timestamp = hasTimestamp(timestamp) ? timestamp : undefined;
      scope.collector.timestamp = timestamp;
      try {
        userFunction.processBroadcastElement(v, writeContext, scope.collector);
      } catch (error) {
        this.runtime.userError(error, v, timestamp, 'processBroadcastElement');
      }
    }
  }

  override close(): void {
    super.close();
    this.userFunction.close?.();
  }
}

/** The keyed scope's part of a snapshot, as KeyedOperator expects it; undefined when the snapshot has none (a step that had no keys). */
function keyedPart(s: Partial<KeyedBroadcastProcessSnapshot>): KeyedScopeSnapshot | undefined {
  if (s.state === undefined) return undefined;
  const { broadcast: _broadcast, ...keyed } = s;
  return keyed as KeyedScopeSnapshot;
}
