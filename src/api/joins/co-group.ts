import type { DataStream } from '../data-stream.js';
import type { Collector } from '../../core/functions.js';
import type { OutputTag } from '../../core/output-tag.js';
import type { StatefulStepOptions } from '../../core/step-options.js';
import { SluiceError } from '../../errors/index.js';
import type { Key } from '../../state/types.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { WindowAssigner } from '../../window/assigner.js';
import type { Evictor } from '../../window/evictor.js';
import type { Trigger } from '../../window/trigger.js';
import type { Window } from '../../window/window.js';

/**
 * A record of either input of a two-stream window step: `side` 0 is the left (first)
 * stream, 1 the right. Assigners, triggers and evictors of a join or co-group see these.
 */
export type Tagged<A, B> = { readonly side: 0; readonly value: A } | { readonly side: 1; readonly value: B };

/** What a co-group's function gets per key and window: the window's records of each side (one side may be empty). */
export type CoGroupFunction<A, B, K extends Key, O> = (key: K, left: A[], right: B[], out: Collector<O>, window: Window) => void;

/** The window configuration shared by co-group and join builders (not part of the public API). */
export interface TwoStreamWindowConfig<A, B, K extends Key> {
  readonly left: DataStream<A>;
  readonly right: DataStream<B>;
  readonly leftKey: (a: A) => K;
  readonly rightKey: (b: B) => K;
  readonly assigner: WindowAssigner<Tagged<A, B>>;
  readonly trigger?: Trigger<Tagged<A, B>> | undefined;
  readonly evictor?: Evictor<Tagged<A, B>> | undefined;
  readonly allowedLateness?: Duration | undefined;
  readonly lateTag?: OutputTag<Tagged<A, B>> | undefined;
}

/**
 * Groups two streams by key and window, Flink's `coGroup`: per key and window, one call
 * with all the window's records of each side, also when one side has none (a window
 * exists once either side has a record in it). Built only on the public API, as Flink
 * builds it: each side is mapped to a {@link Tagged} record (map keeps timestamps), the
 * two are unioned, keyed and windowed, and a window function splits the records by side.
 * Results carry the window's last timestamp (`end - 1`), as every window result does.
 *
 * @example
 * coGroup(orders, payments)
 *   .where((o) => o.id)
 *   .equalTo((p) => p.orderId)
 *   .window(tumbling('1m'))
 *   .apply((id, os, ps, out) => { if (ps.length === 0) for (const o of os) out.collect(o); }, { uid: 'unpaid' });
 */
export function coGroup<A, B>(left: DataStream<A>, right: DataStream<B>): CoGroupedStreams<A, B> {
  return new CoGroupedStreams(left, right);
}

/** `coGroup(left, right)`: name the left key next. */
export class CoGroupedStreams<A, B> {
  constructor(
    private readonly left: DataStream<A>,
    private readonly right: DataStream<B>,
  ) {
    if (left.job !== right.job) throw new SluiceError('INVALID_JOB', 'coGroup() groups streams of two different jobs');
  }
  /** The key of the left records. */
  where<K extends Key>(leftKey: (a: A) => K): KeyedPair<A, B, K, CoGroupWindowed<A, B, K>> {
    return keyedPair(this.left, this.right, leftKey, (config) => new CoGroupWindowed(config));
  }
}

/** `.where(leftKey)` then `.equalTo(rightKey)` then `.window(assigner)`. */
export interface KeyedPair<A, B, K extends Key, W> {
  /** The key of the right records; records of both sides with equal keys meet. */
  equalTo(rightKey: (b: B) => K): {
    /** The windows both sides' records are grouped in; the assigner sees {@link Tagged} records. */
    window(assigner: WindowAssigner<Tagged<A, B>>): W;
  };
}

/** @internal The where/equalTo/window steps shared by join and co-group. */
export function keyedPair<A, B, K extends Key, W>(
  left: DataStream<A>,
  right: DataStream<B>,
  leftKey: (a: A) => K,
  make: (config: TwoStreamWindowConfig<A, B, K>) => W,
): KeyedPair<A, B, K, W> {
  checkSelector(leftKey, 'where');
  return {
    equalTo(rightKey) {
      checkSelector(rightKey, 'equalTo');
      return { window: (assigner) => make(windowConfig(left, right, leftKey, rightKey, assigner)) };
    },
  };
}

/** A co-group with its window: optionally set trigger, evictor and lateness, then `apply`. Immutable. */
export class CoGroupWindowed<A, B, K extends Key> {
  /** @internal */
  constructor(readonly config: TwoStreamWindowConfig<A, B, K>) {}

  /**
   * Replaces the assigner's default trigger; it sees {@link Tagged} records of both sides.
   * With merging (session) windows it must be able to merge, which `apply` checks.
   */
  trigger(trigger: Trigger<Tagged<A, B>>): CoGroupWindowed<A, B, K> {
    return new CoGroupWindowed(Object.freeze({ ...this.config, trigger }));
  }
  /** Removes records of either side from a window before or after the function (the window then keeps all its records). */
  evictor(evictor: Evictor<Tagged<A, B>>): CoGroupWindowed<A, B, K> {
    return new CoGroupWindowed(Object.freeze({ ...this.config, evictor }));
  }
  /**
   * Keeps windows this long after their end: a late record of either side fires its
   * window again, and the function gets all the window's records again. Default 0; a
   * malformed or negative duration throws INVALID_DURATION here.
   */
  allowedLateness(lateness: Duration): CoGroupWindowed<A, B, K> {
    toMillis(lateness, 'allowed lateness');
    return new CoGroupWindowed(Object.freeze({ ...this.config, allowedLateness: lateness }));
  }
  /** Records too late for every window go here, tagged with their side (otherwise the window step counts and drops them). */
  sideOutputLateData(tag: OutputTag<Tagged<A, B>>): CoGroupWindowed<A, B, K> {
    return new CoGroupWindowed(Object.freeze({ ...this.config, lateTag: tag }));
  }

  /** Calls `fn` once per key and window that fires, with both sides' records. The uid names the window step. */
  apply<O>(fn: CoGroupFunction<A, B, K, O>, options: StatefulStepOptions): DataStream<O> {
    if (typeof fn !== 'function') {
      throw new SluiceError('INVALID_ARGUMENT', 'coGroup apply() needs a function (key, left, right, out, window) => void');
    }
    return buildCoGroup(this.config, fn, options, 'co-group');
  }
}

/** @internal Builds the tag -> union -> keyBy -> window -> split pipeline. */
export function buildCoGroup<A, B, K extends Key, O>(
  config: TwoStreamWindowConfig<A, B, K>,
  fn: CoGroupFunction<A, B, K, O>,
  options: StatefulStepOptions,
  what: string,
): DataStream<O> {
  if (!options || typeof options.uid !== 'string') {
    throw new SluiceError('MISSING_UID', `a ${what} has no uid`, { hint: `Give it one: .apply(fn, { uid: 'my-${what}' }).` });
  }
  const { uid } = options;
  // Stateless tagging steps are named after the window step, so that explain() reads as one join.
  const left = config.left.map((value: A): Tagged<A, B> => ({ side: 0, value }), { uid: `${uid}.left` });
  const right = config.right.map((value: B): Tagged<A, B> => ({ side: 1, value }), { uid: `${uid}.right` });
  const { leftKey, rightKey } = config;
  let windowed = left
    .union(right)
    .keyBy((t: Tagged<A, B>): K => (t.side === 0 ? leftKey(t.value) : rightKey(t.value)))
    .window(config.assigner);
  if (config.trigger) windowed = windowed.trigger(config.trigger);
  if (config.evictor) windowed = windowed.evictor(config.evictor);
  if (config.allowedLateness !== undefined) windowed = windowed.allowedLateness(config.allowedLateness);
  if (config.lateTag) windowed = windowed.sideOutputLateData(config.lateTag);
  return windowed.process<O>(
    {
      process: (key, ctx, elements, out) => {
        const ls: A[] = [];
        const rs: B[] = [];
        for (const t of elements) {
          if (t.side === 0) ls.push(t.value);
          else rs.push(t.value);
        }
        fn(key, ls, rs, out, ctx.window);
      },
    },
    options,
  );
}

function windowConfig<A, B, K extends Key>(
  left: DataStream<A>,
  right: DataStream<B>,
  leftKey: (a: A) => K,
  rightKey: (b: B) => K,
  assigner: WindowAssigner<Tagged<A, B>>,
): TwoStreamWindowConfig<A, B, K> {
  if (!assigner || typeof assigner.assignWindows !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'window() needs a WindowAssigner such as tumbling(size), sliding(size, slide) or session(gap)');
  }
  return Object.freeze({ left, right, leftKey, rightKey, assigner });
}

/** @internal */
export function checkSelector(fn: unknown, what: string): void {
  if (typeof fn !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', `${what}() needs a key selector function, got ${fn === null ? 'null' : typeof fn}`);
  }
}
