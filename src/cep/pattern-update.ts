/**
 * Updates to the set of patterns a dynamic CEP step runs, sent on its broadcast input: add a
 * pattern under an id, replace the pattern of an id, remove an id.
 */
import { SluiceError } from '../errors/index.js';
import type { JsonPattern } from './pattern-json.js';

/**
 * One change to the active patterns. `add` refuses an id already active and `replace` /
 * `remove` an id that is not (PATTERN_UPDATE_REFUSED, to the step's error policy): a rules
 * feed that lost or repeated a message shows up instead of silently diverging.
 *
 * @example
 * const update: PatternUpdate = {
 *   op: 'add',
 *   id: 'small-then-large',
 *   pattern: { within: '10m', stages: [{ name: 'small', where: 'amount < 10', times: 3 }, { name: 'large', contiguity: 'followedBy', where: 'amount > 500' }] },
 * };
 */
export type PatternUpdate =
  | { readonly op: 'add'; readonly id: string; readonly pattern: JsonPattern | string }
  | { readonly op: 'replace'; readonly id: string; readonly pattern: JsonPattern | string }
  | { readonly op: 'remove'; readonly id: string };

/** Checks the shape of an update (the pattern itself is checked by `patternFromJson`). */
export function checkPatternUpdate(u: unknown): PatternUpdate {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw refused(`a pattern update is an object { op, id, pattern? }, got ${u === null ? 'null' : typeof u}`);
  const { op, id } = u as Record<string, unknown>;
  if (op !== 'add' && op !== 'replace' && op !== 'remove') throw refused(`a pattern update's op is 'add', 'replace' or 'remove', got ${JSON.stringify(op)}`);
  if (typeof id !== 'string' || id.length === 0) throw refused(`a pattern update needs an id (a non-empty string), got ${JSON.stringify(id)}`);
  const pattern = (u as Record<string, unknown>)['pattern'];
  if (op !== 'remove' && (pattern === undefined || pattern === null)) throw refused(`pattern update '${op}' of '${id}' has no pattern`);
  return u as PatternUpdate;
}

/** The PATTERN_UPDATE_REFUSED error. */
export function refused(message: string): SluiceError {
  return new SluiceError('PATTERN_UPDATE_REFUSED', message);
}
