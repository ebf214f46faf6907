/**
 * Conditions of a pattern's stages: a predicate over an event that may look at the events
 * the partial match already holds (Flink's `IterativeCondition`).
 */

/**
 * What a condition sees besides the event: the events this partial match already took,
 * by stage name, and the time.
 *
 * @typeParam T - the event type.
 * @typeParam N - the names of the pattern's stages.
 */
export interface ConditionContext<T, N extends string = string> {
  /**
   * The events the partial match took so far for the stage `name`, oldest first (empty
   * when none). The event being tested is not among them.
   *
   * @example
   * Pattern.begin<Txn, 'small'>('small').where((t) => t.amount < 10).oneOrMore()
   *   .next('large').where((t, ctx) => t.amount > ctx.eventsFor('small').reduce((s, x) => s + x.amount, 0));
   */
  eventsFor(name: N): readonly T[];
  /** The event's timestamp: its event time, or the time it arrived in processing time. */
  readonly timestamp: number;
}

/**
 * A condition of a stage: true when the event may be taken by the stage.
 *
 * @example
 * const large: Condition<Txn> = (t) => t.amount > 500;
 */
export type Condition<T, N extends string = string> = (event: T, ctx: ConditionContext<T, N>) => boolean;

/** Always true: the condition of a stage without `where`, and of unconditional edges. */
export const TRUE: Condition<any> = () => true;

/** Both conditions. */
export function and<T>(a: Condition<T>, b: Condition<T>): Condition<T> {
  if (a === TRUE) return b;
  if (b === TRUE) return a;
  return (e, ctx) => a(e, ctx) && b(e, ctx);
}

/** Either condition. */
export function or<T>(a: Condition<T>, b: Condition<T>): Condition<T> {
  if (a === TRUE || b === TRUE) return TRUE;
  return (e, ctx) => a(e, ctx) || b(e, ctx);
}

/** The negation. */
export function not<T>(a: Condition<T>): Condition<T> {
  return (e, ctx) => !a(e, ctx);
}
