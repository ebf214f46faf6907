/**
 * The roles of the control plane, each holding the one below it: `viewer` reads (status,
 * metrics, logs, the dashboard's data), `operator` also acts on the job (savepoint, stop,
 * cancel, rescale, forget a subject), `admin` may do everything, configuration included.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

/** What a request does to a job: the unit roles and policies grant. */
export type Action = 'view' | 'metrics' | 'savepoint' | 'stop' | 'cancel' | 'rescale' | 'forget' | 'configure';

/** The least role each action needs. */
export const ACTION_ROLE: Readonly<Record<Action, Role>> = {
  view: 'viewer',
  metrics: 'viewer',
  savepoint: 'operator',
  stop: 'operator',
  cancel: 'operator',
  rescale: 'operator',
  forget: 'operator',
  configure: 'admin',
};

/** Whether a caller holding `roles` may do what needs `needed` (admin ⊇ operator ⊇ viewer). */
export function holds(roles: readonly Role[], needed: Role): boolean {
  const rank = ROLES.indexOf(needed);
  return roles.some((r) => ROLES.indexOf(r) >= rank);
}

/** The roles among `values` (claims may carry others, such as `offline_access`). */
export function rolesOf(values: unknown): Role[] {
  const list = typeof values === 'string' ? values.split(/[\s,]+/) : Array.isArray(values) ? values : [];
  return list.filter((v): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v));
}

/**
 * The action of a REST request, or `'open'` for routes served without a token: the
 * dashboard's page itself (it holds no data; it asks for a token), `/healthz` and `/readyz`
 * (an orchestrator's probes), and `/metrics` when `metricsOpen` is set (a Prometheus scraper).
 *
 * @example
 * routeAction('POST', '/jobs/orders/cancel', false); // 'cancel'
 * routeAction('GET', '/metrics', true); // 'open'
 */
export function routeAction(method: string, path: string, metricsOpen: boolean): Action | 'open' {
  const parts = path.split('/').filter(Boolean);
  if (method === 'GET' && (path === '/' || path === '/healthz' || path === '/readyz')) return 'open';
  if (path === '/metrics') return metricsOpen ? 'open' : 'metrics';
  if (method === 'GET' || method === 'HEAD') return 'view';
  switch (parts[2]) {
    case 'savepoints':
      return 'savepoint';
    case 'cancel':
      return 'cancel';
    case 'stop':
      return 'stop';
    case 'rescale':
      return 'rescale';
    case 'forget':
      return 'forget';
    default:
      // An unknown state-changing route: the strictest role, so a route added later is never open by omission.
      return 'configure';
  }
}
