/**
 * Complex event processing on Flink CEP's model: a typed {@link Pattern} API, its compiler
 * to an automaton, the automaton's runtime over one key's events, after-match skip
 * strategies, and the keyed CEP operator. The builder that wires a pattern into a job is
 * `keyedStream.pattern(p)` (`api/pattern-stream.ts`).
 *
 * @module
 */
export { Pattern, type Match, type Stage } from './pattern.js';
export type { Condition, ConditionContext } from './condition.js';
export type { Quantifier, Consuming, Times } from './quantifier.js';
export { AfterMatchSkip, type AfterMatchSkipStrategy } from './skip-strategy.js';
export type { PatternProcessFunction, PatternContext, TimedOutMatch } from './pattern-function.js';
export { patternFromJson, canonicalPatternJson, type JsonPattern, type JsonStage, type JsonSkip, type JsonContiguity } from './pattern-json.js';
export { compileCondition, evaluateExpression, EXPRESSION_FUNCTIONS, type ExpressionOrigin } from './expression.js';
export type { PatternUpdate } from './pattern-update.js';
export type { DynamicPatternContext, DynamicPatternProcessFunction, DynamicTimedOutMatch } from './dynamic-operator.js';
