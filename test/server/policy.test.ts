import { describe, expect, it } from 'vitest';
import { checkPolicy, evaluatePolicy, type Policy, type PolicyRequest } from '../../src/server/auth/policy.js';
import type { Action } from '../../src/server/auth/roles.js';
import { routeAction } from '../../src/server/auth/roles.js';

const policy: Policy = checkPolicy(
  {
    rules: [
      { name: 'critical jobs are never cancelled', effect: 'deny', actions: ['cancel', 'stop'], labels: { tier: 'critical' } },
      { name: 'contractors only read', effect: 'deny', actions: ['savepoint', 'cancel', 'stop', 'forget', 'rescale', 'configure'], claims: { employment: 'contractor' } },
      { name: 'sre everywhere', effect: 'allow', claims: { groups: 'sre' } },
      { name: 'own team', effect: 'allow', labels: { team: { claim: 'team' } } },
      { name: 'eu data stays with eu staff', effect: 'allow', actions: ['view', 'metrics'], labels: { region: 'eu' }, claims: { region: ['eu', 'global'] } },
    ],
    default: 'deny',
  },
  'test',
);

type Case = [what: string, action: Action, claims: Record<string, unknown>, labels: Record<string, string>, effect: 'allow' | 'deny', rule: string | undefined];

const cases: Case[] = [
  ['own team cancels its job', 'cancel', { team: 'payments' }, { team: 'payments' }, 'allow', 'own team'],
  ['another team cannot cancel', 'cancel', { team: 'search' }, { team: 'payments' }, 'deny', undefined],
  ['another team cannot even view', 'view', { team: 'search' }, { team: 'payments' }, 'deny', undefined],
  ['a job without a team label matches no team', 'view', { team: 'payments' }, {}, 'deny', undefined],
  ['a caller without a team claim matches no team', 'view', {}, { team: 'payments' }, 'deny', undefined],
  ['critical: own team still cannot cancel', 'cancel', { team: 'payments' }, { team: 'payments', tier: 'critical' }, 'deny', 'critical jobs are never cancelled'],
  ['critical: nor stop', 'stop', { groups: ['sre'] }, { tier: 'critical' }, 'deny', 'critical jobs are never cancelled'],
  ['critical: a savepoint is fine', 'savepoint', { team: 'payments' }, { team: 'payments', tier: 'critical' }, 'allow', 'own team'],
  ['sre (a list claim) cancels anything not critical', 'cancel', { groups: ['dev', 'sre'] }, { team: 'x' }, 'allow', 'sre everywhere'],
  ['groups without sre are not sre', 'cancel', { groups: ['dev'] }, { team: 'x' }, 'deny', undefined],
  ['a contractor of the team only reads', 'savepoint', { team: 'payments', employment: 'contractor' }, { team: 'payments' }, 'deny', 'contractors only read'],
  ['a contractor of the team reads', 'view', { team: 'payments', employment: 'contractor' }, { team: 'payments' }, 'allow', 'own team'],
  ['eu staff view eu jobs of other teams', 'view', { region: 'eu', team: 'x' }, { region: 'eu', team: 'y' }, 'allow', 'eu data stays with eu staff'],
  ['global staff view eu jobs', 'metrics', { region: 'global' }, { region: 'eu' }, 'allow', 'eu data stays with eu staff'],
  ['us staff do not', 'view', { region: 'us' }, { region: 'eu' }, 'deny', undefined],
  ['eu staff cannot cancel eu jobs of other teams', 'cancel', { region: 'eu' }, { region: 'eu' }, 'deny', undefined],
  ['a team claim held as a list matches', 'forget', { team: ['a', 'payments'] }, { team: 'payments' }, 'allow', 'own team'],
];

describe('attribute policy', () => {
  it.each(cases)('%s', (_what, action, claims, labels, effect, rule) => {
    const request: PolicyRequest = { action, claims, labels };
    expect(evaluatePolicy(policy, request)).toEqual(rule === undefined ? { effect } : { effect, rule });
  });

  it('an empty policy with the default allow leaves everything to roles; default deny refuses all', () => {
    expect(evaluatePolicy({ rules: [] }, { action: 'cancel', claims: {}, labels: {} }).effect).toBe('allow');
    expect(evaluatePolicy({ rules: [], default: 'deny' }, { action: 'view', claims: {}, labels: {} }).effect).toBe('deny');
  });

  it.each([
    [{ rules: 'x' }, /rules/],
    [{ rules: [{ effect: 'permit' }] }, /effect/],
    [{ rules: [{ effect: 'allow', actions: ['delete'] }] }, /unknown action 'delete'/],
    [{ rules: [], default: 'maybe' }, /default/],
    [{ rules: [{ effect: 'allow', labels: [] }] }, /labels must be an object/],
  ])('a malformed policy %j is refused at start', (bad, message) => {
    expect(() => checkPolicy(bad, 'p.json')).toThrow(message);
  });

  it('every REST route maps to an action; state-changing ones never to a read', () => {
    expect(routeAction('GET', '/jobs', false)).toBe('view');
    expect(routeAction('GET', '/jobs/x/logs', false)).toBe('view');
    expect(routeAction('GET', '/metrics', false)).toBe('metrics');
    expect(routeAction('GET', '/metrics', true)).toBe('open');
    expect(routeAction('POST', '/jobs/x/savepoints', false)).toBe('savepoint');
    expect(routeAction('POST', '/jobs/x/cancel', false)).toBe('cancel');
    expect(routeAction('POST', '/jobs/x/stop', false)).toBe('stop');
    expect(routeAction('POST', '/jobs/x/forget', false)).toBe('forget');
    expect(routeAction('DELETE', '/jobs/x', false)).toBe('configure');
    expect(routeAction('POST', '/', false)).toBe('configure');
  });
});
