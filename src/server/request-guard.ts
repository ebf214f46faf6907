import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { ErrorCode } from '../errors/index.js';

/** A request the guard turns away: the status and the API's error body. */
export interface Refusal {
  readonly status: 421 | 403 | 415;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Names a loopback server answers to (any port). */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Whether `host` (a bind address or a name) is loopback only: `127.x.x.x`, `::1`, `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Whether `host` is a wildcard bind (every interface, loopback included). */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The `Host` names a server answers to (see {@link allowedHosts}). */
export interface AllowedHosts {
  /** Lower case, IPv6 in brackets, without port. */
  readonly names: readonly string[];
  /** Whether any IP address is taken too: a wildcard bind, whose addresses are the machine's (an address cannot be rebound). */
  readonly anyAddress: boolean;
}

/**
 * The host names a server bound to `bind` answers to: the loopback names when it listens
 * on loopback, the bound address, and the names given (`server.allowedHosts`,
 * `--allowed-host`). A wildcard bind (`0.0.0.0`, `::`) answers to the loopback names, the
 * names given and any IP address: DNS rebinding needs a host name of the attacker's.
 *
 * @example
 * allowedHosts('127.0.0.1', []).names; // ['127.0.0.1', 'localhost', '[::1]']
 * allowedHosts('10.0.0.5', ['sluice.internal']).names; // ['10.0.0.5', 'sluice.internal']
 */
export function allowedHosts(bind: string, given: readonly string[]): AllowedHosts {
  const bracket = (h: string) => (isIP(h) === 6 ? `[${h}]` : h.toLowerCase());
  const names = new Set<string>();
  const wildcard = isWildcard(bind);
  if (isLoopback(bind) || wildcard) for (const n of LOOPBACK_NAMES) names.add(n);
  if (!wildcard) names.add(bracket(bind.replace(/^\[|\]$/g, '')));
  // A name given with a port (`sluice.internal:8081`) counts for any port, as the others do.
  for (const g of given) names.add(isIP(g) === 6 ? `[${g}]` : hostName(g));
  return { names: [...names], anyAddress: wildcard };
}

/** The name part of a `Host` header (`[::1]:8081` → `[::1]`, `Example.com:80` → `example.com`). */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Methods that read: every other one changes state and must come from no other site. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Turns away what a web page of another site could send, or undefined to let the request through:
 *
 * - a `Host` the server does not answer to (see {@link allowedHosts}; DNS rebinding: a page of `attacker.example`,
 *   re-pointed at 127.0.0.1, calls the server under the attacker's name): 421, on every
 *   route, `/healthz`, `/readyz` and `/metrics` included (a rebound page could read them);
 * - on a state-changing method, an `Origin` that is not the server's own (a cross-site
 *   request; the CLI sends none): 403;
 * - on a state-changing method, a body that is not `application/json` (a browser sends a
 *   cross-site `text/plain`, form or multipart post without asking first; JSON needs a
 *   preflight that this server never grants): 415.
 *
 * Pinned by `test/server/request-guard.test.ts`.
 */
export function refuse(req: IncomingMessage, hosts: AllowedHosts, scheme: 'http' | 'https' = 'http'): Refusal | undefined {
  const host = req.headers.host;
  const name = host === undefined ? undefined : hostName(host);
  if (host === undefined || name === undefined || !(hosts.names.includes(name) || (hosts.anyAddress && isIP(name.replace(/^\[|\]$/g, '')) !== 0))) {
    return {
      status: 421,
      code: 'HOST_NOT_ALLOWED',
      message: `this server does not answer to the host '${host ?? '(none)'}': it answers to ${hosts.names.join(', ')}${hosts.anyAddress ? ' and its IP addresses' : ''}; give further names with --allowed-host (server: { allowedHosts })`,
    };
  }
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `${scheme}://${host.toLowerCase()}`) {
    return { status: 403, code: 'CROSS_ORIGIN_REFUSED', message: `${req.method} from the origin '${origin}' refused: only the server's own origin (${scheme}://${host}) or a client without an Origin may change a job` };
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return { status: 415, code: 'UNSUPPORTED_CONTENT_TYPE', message: `${req.method} needs a JSON body sent as Content-Type: application/json, got '${type || '(none)'}'` };
  }
  return undefined;
}
