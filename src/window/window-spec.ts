import type { OutputTag } from '../core/output-tag.js';
import type { AggregateFunction, Key } from '../state/types.js';
import type { WindowAssigner } from './assigner.js';
import type { Evictor } from './evictor.js';
import type { Trigger } from './trigger.js';
import type { ProcessWindowFunction } from './window-function.js';

/** The window configuration before the function is chosen (what `keyed.window(…)` and its configuring calls build). */
export interface WindowConfig<T> {
  readonly assigner: WindowAssigner<T>;
  readonly trigger?: Trigger<T> | undefined;
  readonly evictor?: Evictor<T> | undefined;
  readonly allowedLatenessMs: number;
  readonly lateTag?: OutputTag<T> | undefined;
}

/** How a window step computes its result. */
export type WindowFunctionSpec<T, K extends Key, O> =
  | { kind: 'reduce'; reduce: (a: T, b: T) => T; process?: ProcessWindowFunction<T, O, K> | undefined }
  | { kind: 'aggregate'; aggregate: AggregateFunction<T, any, any>; process?: ProcessWindowFunction<any, O, K> | undefined }
  | { kind: 'process'; process: ProcessWindowFunction<T, O, K> };

/** Everything a window step is made of. */
export interface WindowSpec<T, K extends Key, O> {
  readonly assigner: WindowAssigner<T>;
  readonly trigger: Trigger<T>;
  readonly evictor?: Evictor<T> | undefined;
  readonly allowedLatenessMs: number;
  readonly lateTag?: OutputTag<T> | undefined;
  readonly fn: WindowFunctionSpec<T, K, O>;
  /** windowAll: results carry the key null. */
  readonly keyed: boolean;
}

