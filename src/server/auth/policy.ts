import { readFileSync } from 'node:fs';
import { SluiceError } from '../../errors/index.js';
import { claimAt } from './jwt.js';
import { ACTION_ROLE, type Action } from './roles.js';

/** A value a policy rule compares: a claim or a label. */
export type Scalar = string | number | boolean;

/**
 * What a claim or a label must be: one value, any of a list, or the value of the caller's
 * claim (`{ claim: 'team' }`, for "the job's team label is the caller's team"). A claim
 * holding a list (`groups`) matches when any of its elements does.
 */
export type Match = Scalar | readonly Scalar[] | { readonly claim: string };

/** One rule: when every condition holds for the request, its effect decides. */
export interface PolicyRule {
  readonly effect: 'allow' | 'deny';
  /** The actions it covers; default all. */
  readonly actions?: readonly (Action | '*')[];
  /** Conditions on the caller's token claims (dotted paths: `org.team`). */
  readonly claims?: Readonly<Record<string, Match>>;
  /** Conditions on the job's labels (`Job({ labels })`). A label the job lacks fails its condition. */
  readonly labels?: Readonly<Record<string, Match>>;
  /** Shown in the refusal and the audit log. */
  readonly name?: string;
}

/**
 * Attribute-based rules, as data, where roles are too coarse: evaluated on every request
 * after the role check (a rule can narrow what a role allows, never widen it). The first
 * rule whose actions and conditions all match decides; when none does, `default` does
 * (default `allow`, so a policy lists what it forbids).
 *
 * @example
 * // Operators act only on their own team's jobs; nobody cancels a job labelled critical.
 * const policy: Policy = {
 *   rules: [
 *     { name: 'critical jobs are never cancelled', effect: 'deny', actions: ['cancel'], labels: { tier: 'critical' } },
 *     { name: 'own team', effect: 'allow', labels: { team: { claim: 'team' } } },
 *     { name: 'admins', effect: 'allow', claims: { roles: 'admin' } },
 *   ],
 *   default: 'deny',
 * };
 */
export interface Policy {
  readonly rules: readonly PolicyRule[];
  readonly default?: 'allow' | 'deny';
}

/** What a policy is asked: who (claims), what (action), on which job (its name and labels). */
export interface PolicyRequest {
  readonly action: Action;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** A policy's answer, with the rule that gave it (none: the default). */
export interface PolicyDecision {
  readonly effect: 'allow' | 'deny';
  readonly rule?: string;
}

/** Whether `actual` (a claim or label value; a list matches by any element) matches `expected`. */
function matches(actual: unknown, expected: Match, claims: Readonly<Record<string, unknown>>): boolean {
  if (Array.isArray(actual)) return actual.some((a) => matches(a, expected, claims));
  if (actual === undefined || actual === null) return false;
  if (typeof expected === 'object' && !Array.isArray(expected)) {
    const want = claimAt(claims, (expected as { claim: string }).claim);
    return want !== undefined && want !== null && (Array.isArray(want) ? want.some((w) => String(w) === String(actual)) : String(want) === String(actual));
  }
  const options = Array.isArray(expected) ? (expected as readonly Scalar[]) : [expected as Scalar];
  return options.some((o) => String(o) === String(actual));
}

/**
 * Evaluates `policy` for one request (see {@link Policy}); pinned by the table of
 * `test/server/policy.test.ts`.
 *
 * @example
 * evaluatePolicy(policy, { action: 'cancel', claims: { team: 'a' }, labels: { team: 'b' } }); // { effect: 'deny' }
 */
export function evaluatePolicy(policy: Policy, request: PolicyRequest): PolicyDecision {
  for (const [i, rule] of policy.rules.entries()) {
    const actions = rule.actions ?? ['*'];
    if (!actions.includes('*') && !actions.includes(request.action)) continue;
    const claimsHold = Object.entries(rule.claims ?? {}).every(([path, m]) => matches(claimAt(request.claims, path), m, request.claims));
    const labelsHold = Object.entries(rule.labels ?? {}).every(([name, m]) => matches(request.labels[name], m, request.claims));
    if (claimsHold && labelsHold) return { effect: rule.effect, rule: rule.name ?? `rule ${i}` };
  }
  return { effect: policy.default ?? 'allow' };
}

/** Checks a policy's shape once, when the server starts, so that a typo is an error there and not a refusal later. */
export function checkPolicy(policy: unknown, where: string): Policy {
  const bad = (why: string): never => {
    throw new SluiceError('AUTH_CONFIG_INVALID', `${where}: ${why}`);
  };
  if (typeof policy !== 'object' || policy === null || !Array.isArray((policy as Policy).rules)) bad('a policy is { rules: [...], default?: "allow" | "deny" }');
  const p = policy as Policy;
  if (p.default !== undefined && p.default !== 'allow' && p.default !== 'deny') bad(`default must be 'allow' or 'deny', got ${JSON.stringify(p.default)}`);
  p.rules.forEach((r, i) => {
    if (r.effect !== 'allow' && r.effect !== 'deny') bad(`rule ${i} needs effect 'allow' or 'deny'`);
    for (const a of r.actions ?? []) if (a !== '*' && !Object.hasOwn(ACTION_ROLE, a)) bad(`rule ${i} names an unknown action '${a}' (known: ${Object.keys(ACTION_ROLE).join(', ')}, *)`);
    for (const [kind, conditions] of [['claims', r.claims], ['labels', r.labels]] as const) {
      if (conditions !== undefined && (typeof conditions !== 'object' || conditions === null || Array.isArray(conditions))) bad(`rule ${i}: ${kind} must be an object`);
    }
  });
  return p;
}

/** Reads a policy from a JSON file. */
export function loadPolicy(file: string): Policy {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SluiceError('AUTH_CONFIG_INVALID', `cannot read the policy file ${file}: ${(e as Error).message}`);
  }
  return checkPolicy(data, file);
}
