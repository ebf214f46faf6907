/**
 * Patterns as data: the JSON form of a {@link Pattern}, with the builder's vocabulary and
 * conditions written in the expression language (`expression.ts`). What the builder
 * refuses, this refuses too (it goes through the builder), with the JSON path of the
 * offending entry in the message.
 */
import { SluiceError } from '../errors/index.js';
import { compileCondition } from './expression.js';
import { compilePattern } from './nfa-compiler.js';
import { Pattern } from './pattern.js';
import { AfterMatchSkip, type AfterMatchSkipStrategy } from './skip-strategy.js';
import type { Duration } from '../time/duration.js';

/** How a stage after the first relates to the one before it: the builder method of that name. */
export type JsonContiguity = 'next' | 'followedBy' | 'followedByAny' | 'notNext' | 'notFollowedBy';

/** One stage of a JSON pattern. Only `name` is required; `contiguity` is required from the second stage on. */
export interface JsonStage {
  readonly name: string;
  /** From the second stage on: how it follows the stage before (the first stage begins the pattern). */
  readonly contiguity?: JsonContiguity;
  /** The stage's condition, an expression (`"amount > 500"`); always true when absent. */
  readonly where?: string;
  /** Widens the condition, as the builder's `or(…)`. */
  readonly or?: string;
  /** `times(n)`, or `[n, m]` for `times(n, m)`. */
  readonly times?: number | readonly [number, number];
  readonly oneOrMore?: boolean;
  readonly timesOrMore?: number;
  readonly optional?: boolean;
  readonly consecutive?: boolean;
  readonly allowCombinations?: boolean;
  readonly greedy?: boolean;
  /** A loop's stop condition, an expression. */
  readonly until?: string;
}

/** A skip strategy: its kind alone, or `{ kind: 'skip-to-first' | 'skip-to-last', name }`. */
export type JsonSkip = 'no-skip' | 'skip-to-next' | 'skip-past-last-event' | { readonly kind: 'skip-to-first' | 'skip-to-last'; readonly name: string };

/**
 * A pattern as JSON.
 *
 * @example
 * const fraud: JsonPattern = {
 *   skip: 'skip-past-last-event',
 *   within: '10m',
 *   stages: [
 *     { name: 'small', where: 'amount < 10', times: 3 },
 *     { name: 'large', contiguity: 'followedBy', where: 'amount > 500' },
 *   ],
 * };
 */
export interface JsonPattern {
  readonly stages: readonly JsonStage[];
  /** A duration: milliseconds or a string such as `'10m'`. */
  readonly within?: number | string;
  /** Default `'no-skip'`. */
  readonly skip?: JsonSkip;
}

const STAGE_KEYS = new Set(['name', 'contiguity', 'where', 'or', 'times', 'oneOrMore', 'timesOrMore', 'optional', 'consecutive', 'allowCombinations', 'greedy', 'until']);
const PATTERN_KEYS = new Set(['stages', 'within', 'skip']);
const CONTIGUITIES: readonly JsonContiguity[] = ['next', 'followedBy', 'followedByAny', 'notNext', 'notFollowedBy'];

/**
 * Builds the pattern a JSON pattern describes, compiles it once to refuse what only the
 * compiler sees (a trailing notFollowedBy without within), and returns it. `json` may be the
 * text or the parsed value. Refuses with PATTERN_INVALID (structure, builder rules; the
 * message names the JSON path) or EXPRESSION_INVALID (a condition; with its column).
 *
 * @param where - names the pattern in messages (`pattern 'fraud'`).
 *
 * @example
 * const fraud = patternFromJson<Txn>('{"within":"10m","stages":[{"name":"small","where":"amount < 10","times":3},{"name":"large","contiguity":"followedBy","where":"amount > 500"}]}');
 * txns.keyBy('card').pattern(fraud).select((m) => m.large[0], { uid: 'fraud' });
 */
export function patternFromJson<T>(json: string | JsonPattern, where = 'pattern'): Pattern<T, string> {
  const value = typeof json === 'string' ? parseJson(json, where) : json;
  const p = checkPattern(value, where);
  const positive = p.stages.filter((s) => s.contiguity !== 'notNext' && s.contiguity !== 'notFollowedBy').map((s) => s.name);
  let pattern: Pattern<T, string> | undefined;
  p.stages.forEach((s, i) => {
    const at = `${where}: stages[${i}]`;
    const origin = (field: string) => ({ at: `${at}.${field}`, stages: positive });
    pattern = wrap(at, () => {
      let q = i === 0 ? Pattern.begin<T, string>(s.name, skipOf(p.skip, where)) : follow(pattern!, s.contiguity!, s.name);
      if (s.where !== undefined) q = q.where(compileCondition<T>(s.where, origin('where')));
      if (s.or !== undefined) q = q.or(compileCondition<T>(s.or, origin('or')));
      if (s.times !== undefined) q = typeof s.times === 'number' ? q.times(s.times) : q.times(s.times[0], s.times[1]);
      if (s.oneOrMore) q = q.oneOrMore();
      if (s.timesOrMore !== undefined) q = q.timesOrMore(s.timesOrMore);
      if (s.optional) q = q.optional();
      if (s.consecutive) q = q.consecutive();
      if (s.allowCombinations) q = q.allowCombinations();
      if (s.greedy) q = q.greedy();
      if (s.until !== undefined) q = q.until(compileCondition<T>(s.until, origin('until')));
      return q;
    });
  });
  let built = pattern!;
  if (p.within !== undefined) built = wrap(`${where}: within`, () => built.within(p.within as Duration));
  wrap(where, () => compilePattern(built));
  return built;
}

/**
 * The pattern in one canonical text (keys in a fixed order, defaults left out): two JSON
 * patterns with the same text are the same pattern. The dynamic CEP step keeps a replaced
 * pattern's partial matches when the new definition has the same text.
 */
export function canonicalPatternJson(json: JsonPattern): string {
  const stages = json.stages.map((s) => {
    const o: Record<string, unknown> = {};
    for (const k of STAGE_KEYS) {
      const v = (s as unknown as Record<string, unknown>)[k];
      if (v !== undefined && v !== false) o[k] = v;
    }
    return o;
  });
  const skip = json.skip === undefined || json.skip === 'no-skip' ? undefined : json.skip;
  return JSON.stringify({ stages, within: json.within, skip: typeof skip === 'object' ? { kind: skip.kind, name: skip.name } : skip });
}

function follow<T>(p: Pattern<T, string>, contiguity: JsonContiguity, name: string): Pattern<T, string> {
  switch (contiguity) {
    case 'next':
      return p.next(name);
    case 'followedBy':
      return p.followedBy(name);
    case 'followedByAny':
      return p.followedByAny(name);
    case 'notNext':
      return p.notNext(name);
    case 'notFollowedBy':
      return p.notFollowedBy(name);
  }
}

function skipOf(skip: JsonSkip | undefined, where: string): AfterMatchSkipStrategy {
  if (skip === undefined || skip === 'no-skip') return AfterMatchSkip.noSkip();
  if (skip === 'skip-to-next') return AfterMatchSkip.skipToNext();
  if (skip === 'skip-past-last-event') return AfterMatchSkip.skipPastLastEvent();
  if (typeof skip === 'object' && skip !== null && typeof skip.name === 'string') {
    if (skip.kind === 'skip-to-first') return AfterMatchSkip.skipToFirst(skip.name);
    if (skip.kind === 'skip-to-last') return AfterMatchSkip.skipToLast(skip.name);
  }
  throw invalid(
    `${where}: skip: expected 'no-skip', 'skip-to-next', 'skip-past-last-event' or { kind: 'skip-to-first' | 'skip-to-last', name }, got ${JSON.stringify(skip)}`,
  );
}

/** Runs a builder step; a PATTERN_INVALID or INVALID_DURATION it throws gets the JSON path in front. */
function wrap<R>(at: string, build: () => R): R {
  try {
    return build();
  } catch (e) {
    if (e instanceof SluiceError && (e.code === 'PATTERN_INVALID' || e.code === 'INVALID_DURATION')) {
      throw new SluiceError(e.code, `${at}: ${firstLine(e.message)}`, { cause: e });
    }
    throw e;
  }
}

function firstLine(message: string): string {
  return message.replace(/^\[[A-Z_]+\] /, '').split('\n')[0]!;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 names the position ("at position 42" or "line 3 column 5"): keep its message.
    throw invalid(`${where}: not valid JSON: ${(e as Error).message}`);
  }
}

function checkPattern(v: unknown, where: string): JsonPattern {
  if (!isObject(v)) throw invalid(`${where}: a pattern is a JSON object with "stages", got ${kind(v)}`);
  for (const k of Object.keys(v)) if (!PATTERN_KEYS.has(k)) throw invalid(`${where}: unknown field "${k}" (a pattern has ${[...PATTERN_KEYS].join(', ')})`);
  const stages = v['stages'];
  if (!Array.isArray(stages) || stages.length === 0) throw invalid(`${where}: stages: expected a non-empty array of stages, got ${Array.isArray(stages) ? 'an empty array' : kind(stages)}`);
  stages.forEach((s, i) => checkStage(s, i, `${where}: stages[${i}]`));
  const within = v['within'];
  if (within !== undefined && typeof within !== 'number' && typeof within !== 'string') throw invalid(`${where}: within: expected a duration ('10m' or milliseconds), got ${kind(within)}`);
  return v as unknown as JsonPattern;
}

function checkStage(s: unknown, i: number, at: string): void {
  if (!isObject(s)) throw invalid(`${at}: a stage is an object with a "name", got ${kind(s)}`);
  for (const k of Object.keys(s)) if (!STAGE_KEYS.has(k)) throw invalid(`${at}: unknown field "${k}" (a stage has ${[...STAGE_KEYS].join(', ')})`);
  if (typeof s['name'] !== 'string' || s['name'].length === 0) throw invalid(`${at}.name: expected a non-empty string, got ${kind(s['name'])}`);
  const c = s['contiguity'];
  if (i === 0 && c !== undefined) throw invalid(`${at}.contiguity: the first stage begins the pattern and has no contiguity`);
  if (i > 0 && !CONTIGUITIES.includes(c as JsonContiguity)) throw invalid(`${at}.contiguity: expected one of ${CONTIGUITIES.join(', ')}, got ${kind(c)}`);
  for (const k of ['where', 'or', 'until']) {
    if (s[k] !== undefined && typeof s[k] !== 'string') throw invalid(`${at}.${k}: expected an expression string, got ${kind(s[k])}`);
  }
  for (const k of ['oneOrMore', 'optional', 'consecutive', 'allowCombinations', 'greedy']) {
    if (s[k] !== undefined && typeof s[k] !== 'boolean') throw invalid(`${at}.${k}: expected true or false, got ${kind(s[k])}`);
  }
  const t = s['times'];
  if (t !== undefined && typeof t !== 'number' && !(Array.isArray(t) && t.length === 2 && t.every((x) => typeof x === 'number'))) {
    throw invalid(`${at}.times: expected a number or [from, to], got ${kind(t)}`);
  }
  if (s['timesOrMore'] !== undefined && typeof s['timesOrMore'] !== 'number') throw invalid(`${at}.timesOrMore: expected a number, got ${kind(s['timesOrMore'])}`);
  const quantifiers = ['times', 'oneOrMore', 'timesOrMore'].filter((k) => s[k] !== undefined && s[k] !== false);
  if (quantifiers.length > 1) throw invalid(`${at}: give one of ${quantifiers.join(', ')}, not several`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : JSON.stringify(v);
}

function invalid(message: string): SluiceError {
  return new SluiceError('PATTERN_INVALID', message);
}
