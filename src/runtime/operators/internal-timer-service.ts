import type { Namespace } from '../../state/types.js';

/**
 * Time as a keyed operator built on the runtime (a window operator, a join) sees it, as
 * Flink's InternalTimerService: the operator's watermark, processing time, and timers of
 * the current key under a namespace (a window keeps one set per window; undefined: the
 * key's own). Timers fire through the operator's timer callback. Unlike the user-facing
 * `TimerService`, times are not checked: the library computes them.
 */
export interface InternalTimerService {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(timestamp: number, namespace: Namespace | undefined): void;
  deleteEventTimeTimer(timestamp: number, namespace: Namespace | undefined): void;
  registerProcessingTimeTimer(timestamp: number, namespace: Namespace | undefined): void;
  deleteProcessingTimeTimer(timestamp: number, namespace: Namespace | undefined): void;
}
