import { SluiceError } from '../errors/index.js';
import { globalWindows } from './assigners/global.js';
import { countEvictor } from './evictors/count.js';
import { countTrigger } from './triggers/count.js';
import { purging } from './triggers/purging.js';
import type { WindowConfig } from './window-spec.js';

function checkCount(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new SluiceError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${String(n)}`);
  return n;
}

/** Tumbling count windows as Flink builds them: the global window, fired and purged every `size` records. */
export function countWindowAssigner<T>(size: number): Omit<WindowConfig<T>, 'allowedLatenessMs'> {
  checkCount(size, 'count window size');
  return { assigner: globalWindows<T>(), trigger: purging(countTrigger<T>(size)) };
}

/** Sliding count windows: every `slide` records, a window of the last `size` records fires. */
export function slidingCountWindowAssigner<T>(size: number, slide: number): Omit<WindowConfig<T>, 'allowedLatenessMs'> {
  checkCount(size, 'count window size');
  checkCount(slide, 'count window slide');
  return { assigner: globalWindows<T>(), trigger: countTrigger<T>(slide), evictor: countEvictor<T>(size) };
}
