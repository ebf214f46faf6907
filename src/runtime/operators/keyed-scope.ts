import type { KeyedProcessContext, OnTimerContext, OpenContext, TimerService } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import { SluiceError, describeRecord } from '../../errors/index.js';
import type { Key, KeyedStateBackend, KeyedStateHandle, KeyedStateSnapshot, Namespace, StateDescriptor, StateOf } from '../../state/types.js';
import { hasTimestamp } from '../batch.js';
import type { OperatorRuntime } from '../operator.js';
import type { OperatorOutputs } from '../output.js';
import { keyGroupOf, type KeyGroupRange } from '../../state/key-groups.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mapValues } from '../../state/snapshot-format.js';
import { materializeHandle, readsHandle } from '../../state/state-handles.js';
import { TimerQueue, type TimerEntry } from '../timer-queue.js';
import type { InternalTimerService } from './internal-timer-service.js';
import { TimestampedCollector } from './timestamped-collector.js';

/** True for the values that may be keys: strings, finite numbers, bigints. */
export function isKey(k: unknown): k is Key {
  const t = typeof k;
  return t === 'string' || t === 'bigint' || (t === 'number' && Number.isFinite(k as number));
}

/** The KEY_INVALID error for a key selector's bad result. */
export function invalidKeyError(uid: string, key: unknown, record: unknown): SluiceError {
  const got = key === undefined ? 'undefined' : key === null ? 'null' : typeof key === 'number' ? String(key) : `a ${typeof key}`;
  return new SluiceError(
    'KEY_INVALID',
    `step '${uid}': the key selector returned ${got} for record ${describeRecord(record)}; a key must be a string, a finite number or a bigint`,
    { step: uid },
  );
}

/** Keyed state and pending timers, as a checkpoint holds them. */
export interface KeyedScopeSnapshot {
  /** The entries; empty (no states) when `handle` holds them. */
  readonly state: KeyedStateSnapshot;
  /**
   * The state as files of the backend outside the checkpoint (an incremental checkpoint:
   * `KeyedStateBackend.checkpointTo`), when the backend and the runtime's
   * `sharedStateDir` allow. Savepoints never keep one: the coordinator turns it into `state`.
   */
  readonly handle?: KeyedStateHandle | undefined;
  /** The shared directories `handle` needs: checkpoint retention keeps them (`checkpoint/shared-state.ts`). */
  readonly sharedDirs?: readonly string[] | undefined;
  /** Versions of the states whose descriptors name one (see StateOptions.version). */
  readonly versions?: Record<string, number>;
  readonly eventTimers: TimerEntry[];
  readonly processingTimers: TimerEntry[];
}

export type TimerCallback = (timestamp: number, domain: 'event-time' | 'processing-time', namespace: Namespace | undefined) => void;

/** What every context of a keyed step reads from its scope: time and side outputs. */
export abstract class ScopeContext<K extends Key> {
  constructor(protected readonly scope: KeyedScope<K, any>) {}
  currentWatermark(): number {
    return this.scope.watermark;
  }
  currentProcessingTime(): number {
    return this.scope.runtime.clock.now();
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.scope.collector.side(tag, value);
  }
}

class Context<K extends Key> extends ScopeContext<K> implements KeyedProcessContext<K>, OnTimerContext<K> {
  key!: K;
  timestamp: number | undefined = undefined;
  timeDomain: 'event-time' | 'processing-time' = 'event-time';
  constructor(
    scope: KeyedScope<K, any>,
    readonly timerService: TimerService,
  ) {
    super(scope);
  }
}

/**
 * The keyed machinery shared by keyed operators: the current key, keyed state, event-time
 * and processing-time timers (it is their operator's {@link InternalTimerService}), and
 * the contexts handed to user functions (one object per operator, updated in place: no
 * allocation per record).
 */
export class KeyedScope<K extends Key, O> implements InternalTimerService {
  readonly backend: KeyedStateBackend;
  readonly eventTimers = new TimerQueue();
  readonly processingTimers = new TimerQueue();
  readonly collector = new TimestampedCollector<O>();
  readonly context: Context<K>;
  readonly openContext: OpenContext;
  watermark = Number.NEGATIVE_INFINITY;
  private scheduledAt = Number.POSITIVE_INFINITY;
  /** Descriptors the function declared, by name (their versions go into snapshots). */
  private readonly declared = new Map<string, StateDescriptor>();
  private cancelScheduled: (() => void) | undefined;

  constructor(
    readonly runtime: OperatorRuntime,
    private readonly outputs: OperatorOutputs<O>,
    private readonly onTimer: TimerCallback,
  ) {
    this.backend = runtime.stateBackend();
    const scope = this;
    const timerService: TimerService = {
      currentWatermark: () => scope.watermark,
      currentProcessingTime: () => runtime.clock.now(),
      registerEventTimeTimer: (timestamp) => scope.eventTimers.register(scope.context.key, checkTime(timestamp, runtime.uid)),
      deleteEventTimeTimer: (timestamp) => scope.eventTimers.delete(scope.context.key, timestamp),
      registerProcessingTimeTimer: (timestamp) => {
        scope.processingTimers.register(scope.context.key, checkTime(timestamp, runtime.uid));
        scope.scheduleProcessingTimers();
      },
      deleteProcessingTimeTimer: (timestamp) => scope.processingTimers.delete(scope.context.key, timestamp),
    };
    this.context = new Context<K>(this, timerService);
    this.openContext = {
      uid: runtime.uid,
      state: <D extends StateDescriptor>(d: D): StateOf<D> => {
        this.declared.set(d.name, d);
        return this.backend.getState(d);
      },
    };
  }

  /** Makes `key` current for state, timers and the context; `timestamp` is the record's. */
  setKey(key: K, timestamp: number): void {
    this.backend.setCurrentKey(key);
    this.context.key = key;
    this.context.timestamp = hasTimestamp(timestamp) ? timestamp : undefined;
    this.collector.timestamp = timestamp;
  }

  // --- InternalTimerService: timers under a namespace of the current key (windows keep one set per window) ---
  currentWatermark(): number {
    return this.watermark;
  }
  currentProcessingTime(): number {
    return this.runtime.clock.now();
  }
  registerEventTimeTimer(timestamp: number, namespace: Namespace | undefined): void {
    this.eventTimers.register(this.context.key, timestamp, namespace);
  }
  deleteEventTimeTimer(timestamp: number, namespace: Namespace | undefined): void {
    this.eventTimers.delete(this.context.key, timestamp, namespace);
  }
  registerProcessingTimeTimer(timestamp: number, namespace: Namespace | undefined): void {
    this.processingTimers.register(this.context.key, timestamp, namespace);
    this.scheduleProcessingTimers();
  }
  deleteProcessingTimeTimer(timestamp: number, namespace: Namespace | undefined): void {
    this.processingTimers.delete(this.context.key, timestamp, namespace);
  }

  /** Fires event-time timers up to `watermark`, sends what they emitted. */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark;
    if (this.eventTimers.size > 0) {
      this.eventTimers.advanceTo(watermark, (key, timestamp, namespace) => this.fire(key as K, timestamp, 'event-time', namespace));
    }
    this.collector.flush(this.outputs);
  }

  private fire(key: K, timestamp: number, domain: 'event-time' | 'processing-time', namespace: Namespace | undefined): void {
    this.setKey(key, timestamp);
    this.context.timeDomain = domain;
    try {
      this.onTimer(timestamp, domain, namespace);
    } catch (error) {
      this.runtime.userError(error, { timer: timestamp, domain, key }, timestamp, 'onTimer');
    }
  }

  /** Keeps one clock callback, at the earliest processing-time timer. */
  scheduleProcessingTimers(): void {
    const next = this.processingTimers.peek();
    if (next === undefined || next >= this.scheduledAt) return;
    this.cancelScheduled?.();
    this.scheduledAt = next;
    this.cancelScheduled = this.runtime.scheduleProcessingTime(next, () => {
      this.scheduledAt = Number.POSITIVE_INFINITY;
      this.cancelScheduled = undefined;
      this.processingTimers.advanceTo(this.runtime.clock.now(), (key, timestamp, namespace) => this.fire(key as K, timestamp, 'processing-time', namespace));
      this.collector.flush(this.outputs);
      this.scheduleProcessingTimers();
    });
  }

  /**
   * State and timers for checkpoint `checkpointId`. When the backend writes its own files
   * (`checkpointTo`) and the runtime names a shared directory, the state goes there as an
   * incremental checkpoint (a fresh directory `<id>-<token>`: a retried id never reuses
   * one) and the snapshot holds only the handle; otherwise every entry, as a plain snapshot.
   */
  snapshot(checkpointId?: number): KeyedScopeSnapshot | Promise<KeyedScopeSnapshot> {
    const versions: Record<string, number> = {};
    for (const [name, d] of this.declared) if (d.version !== undefined) versions[name] = d.version;
    const timers = { eventTimers: this.eventTimers.entries(), processingTimers: this.processingTimers.entries() };
    const shared = this.runtime.sharedStateDir;
    if (shared === undefined || checkpointId === undefined || this.backend.checkpointTo === undefined) {
      return { state: this.backend.snapshot(), versions, ...timers };
    }
    const dir = join(shared, `${checkpointId}-${randomBytes(4).toString('hex')}`);
    const withHandle = (handle: KeyedStateHandle): KeyedScopeSnapshot => ({
      state: { maxParallelism: handle.maxParallelism, states: {} },
      handle,
      sharedDirs: handle.dirs,
      versions,
      ...timers,
    });
    // Copied now, written while the step goes on: the task's acknowledgement waits for the files.
    const ackAfter = this.runtime.ackAfter;
    if (this.backend.captureCheckpoint !== undefined && ackAfter !== undefined) {
      const { handle, written } = this.backend.captureCheckpoint(dir, checkpointId);
      ackAfter(written);
      return withHandle(handle);
    }
    return this.backend.checkpointTo(dir, checkpointId).then(withHandle);
  }

  /**
   * Loads state and timers of a checkpoint (processing-time timers that came due meanwhile
   * fire at once). States declared with a newer version than the stored one are migrated
   * entry by entry; an older declared version than the stored one is refused. With
   * `keyGroups` (rescaling), only the state and timers of keys in those groups.
   * A snapshot with a `handle` loads its files: straight into a backend that reads them,
   * else (another backend, or a migration) through a plain snapshot made from them.
   */
  restore(s: KeyedScopeSnapshot, keyGroups?: KeyGroupRange): void | Promise<void> {
    const handle = s.handle;
    if (handle === undefined) return this.restorePlain(s, keyGroups);
    const migrates = [...this.declared].some(([name, d]) => (d.version ?? 1) !== (s.versions?.[name] ?? 1));
    if (readsHandle(this.backend, handle) && !migrates) {
      return this.backend.restoreHandle!(handle, keyGroups).then(() => this.restoreTimers(s, keyGroups));
    }
    return materializeHandle(handle, this.runtime.clock).then((state) => this.restorePlain({ ...s, state, handle: undefined }, keyGroups));
  }

  private restorePlain(s: KeyedScopeSnapshot, keyGroups?: KeyGroupRange): void {
    this.backend.restore(this.migrate(s), keyGroups);
    this.restoreTimers(s, keyGroups);
  }

  private restoreTimers(s: KeyedScopeSnapshot, keyGroups?: KeyGroupRange): void {
    const max = this.runtime.maxParallelism;
    const mine = (key: Key) => keyGroups === undefined || inRange(keyGroupOf(key, max), keyGroups);
    for (const t of s.eventTimers) if (mine(t.key)) this.eventTimers.register(t.key, t.timestamp, t.namespace);
    for (const t of s.processingTimers) if (mine(t.key)) this.processingTimers.register(t.key, t.timestamp, t.namespace);
    this.scheduleProcessingTimers();
  }

  private migrate(s: KeyedScopeSnapshot): KeyedStateSnapshot {
    const states = { ...s.state.states };
    for (const [name, stored] of Object.entries(states)) {
      const d = this.declared.get(name);
      const from = s.versions?.[name] ?? 1;
      const to = d?.version ?? 1;
      if (!d || from === to) continue;
      if (to < from) {
        throw new SluiceError('CHECKPOINT_INVALID', `step '${this.runtime.uid}': state '${name}' was stored by version ${from} but is declared as version ${to}`, {
          step: this.runtime.uid,
          hint: 'Restore with a job whose state descriptor has the same or a newer version (with a migrate function).',
        });
      }
      if (!d.migrate) {
        throw new SluiceError('CHECKPOINT_INVALID', `step '${this.runtime.uid}': state '${name}' is version ${to} but was stored by version ${from}, and has no migrate function`, {
          step: this.runtime.uid,
          hint: `Give the descriptor of '${name}' a migrate(stored, fromVersion) function.`,
        });
      }
      const migrate = d.migrate;
      states[name] = mapValues(stored, (value) => migrate(value, from));
    }
    return { ...s.state, states };
  }

  /** Stops processing-time callbacks (end of input, close): Flink does not fire them after the end. */
  quiesce(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    this.scheduledAt = Number.POSITIVE_INFINITY;
  }
}

function checkTime(timestamp: number, uid: string): number {
  if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) {
    throw new SluiceError('INVALID_ARGUMENT', `step '${uid}': a timer needs a timestamp in epoch milliseconds, got ${String(timestamp)}`, { step: uid });
  }
  return timestamp;
}

function inRange(keyGroup: number, range: KeyGroupRange): boolean {
  return keyGroup >= range.from && keyGroup <= range.to;
}
