import type { OutputTag } from '../core/output-tag.js';
import type { InternalTimerService } from '../runtime/operators/internal-timer-service.js';
import type { TimestampedCollector } from '../runtime/operators/timestamped-collector.js';
import type { Key, KeyedStateBackend, Namespace, StateDescriptor, StateOf } from '../state/types.js';
import type { FiringTiming, WindowContext } from './window-function.js';
import { windowNamespace, type Window } from './window.js';

/** What a window context needs of its operator. */
export interface WindowHost<K extends Key> {
  readonly timerService: InternalTimerService;
  readonly collector: TimestampedCollector<unknown>;
  scopedState<D extends StateDescriptor>(descriptor: D, ns: Namespace | undefined): StateOf<D>;
}

/**
 * State that always reads and writes under namespace `ns`, whatever the backend's current
 * namespace: each call switches to `ns`, then back to `current()`. Window functions get
 * their per-window and per-key state this way while the operator works on other windows.
 */
export function scopedState<D extends StateDescriptor>(
  backend: KeyedStateBackend,
  descriptor: D,
  ns: Namespace | undefined,
  current: () => Namespace | undefined,
): StateOf<D> {
  backend.setCurrentNamespace(ns);
  const state = backend.getState(descriptor) as object;
  backend.setCurrentNamespace(current());
  return new Proxy(state, {
    get: (target, prop) => {
      const f = (target as Record<string | symbol, unknown>)[prop];
      if (typeof f !== 'function') return f;
      return (...args: unknown[]) => {
        const restore = current();
        backend.setCurrentNamespace(ns);
        try {
          return (f as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          backend.setCurrentNamespace(restore);
        }
      };
    },
  }) as StateOf<D>;
}

/** The context a window function gets when its window fires. */
export class WindowCtx<K extends Key> implements WindowContext<K> {
  constructor(
    private readonly host: WindowHost<K>,
    readonly key: K,
    readonly window: Window,
    readonly timing: FiringTiming,
    readonly isUpdate: boolean,
  ) {}
  currentWatermark(): number {
    return this.host.timerService.currentWatermark();
  }
  currentProcessingTime(): number {
    return this.host.timerService.currentProcessingTime();
  }
  windowState<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    return this.host.scopedState(descriptor, windowNamespace(this.window));
  }
  globalState<D extends StateDescriptor>(descriptor: D): StateOf<D> {
    return this.host.scopedState(descriptor, undefined);
  }
  output<X>(tag: OutputTag<X>, value: X): void {
    this.host.collector.side(tag, value);
  }
}
