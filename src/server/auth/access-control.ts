import type { IncomingMessage } from 'node:http';
import { SluiceError, type ErrorCode } from '../../errors/index.js';
import { jwtVerifier, type JwtOptions } from './jwt.js';
import { checkPolicy, evaluatePolicy, loadPolicy, type Policy } from './policy.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { ACTION_ROLE, holds, routeAction, type Action } from './roles.js';
import { StaticTokens, type StaticTokenEntry } from './static-tokens.js';

/**
 * Authentication and authorisation of a job's REST API (`server.auth`). With neither
 * tokens nor a JWKS, the API is open (allowed on loopback, or with `insecure`).
 *
 * @example
 * new Job({ name: 'orders', labels: { team: 'payments' }, server: {
 *   host: '0.0.0.0',
 *   auth: {
 *     tokensFile: '/run/secrets/sluice-tokens.json',
 *     jwt: { jwksUrl: 'https://id.example.com/jwks', issuer: 'https://id.example.com', audience: 'sluice' },
 *     metricsOpen: true,
 *     policy: { rules: [{ effect: 'deny', actions: ['cancel', 'stop'], labels: { team: { claim: 'team' } }, name: 'x' }] },
 *   },
 * } });
 */
export interface AuthOptions {
  /** A JSON file of static bearer tokens (see `StaticTokens`), read at start (`--tokens-file`). */
  tokensFile?: string;
  /** Static tokens given inline, as the file's entries. */
  tokens?: readonly StaticTokenEntry[];
  /** Bearer JWTs verified against an issuer's JWKS. */
  jwt?: JwtOptions;
  /** Serve `/metrics` without a token (for a Prometheus scraper). Default false. */
  metricsOpen?: boolean;
  /** Attribute-based rules on top of roles: the policy itself or a JSON file of it (`--policy`). */
  policy?: Policy | string;
}

/** A request the access check turns away: 401 (no or a bad token) or 403 (a role too low, a policy's deny). */
export interface AccessRefusal {
  readonly status: 401 | 403;
  readonly code: ErrorCode;
  readonly message: string;
  readonly principal?: Principal;
  readonly action: Action;
}

/** A request let through: who made it and what it does (`open` routes have the anonymous caller). */
export interface AccessGrant {
  readonly principal: Principal;
  readonly action: Action | 'open';
  /** The policy rule that allowed it, if one did. */
  readonly rule?: string;
}

/** The bearer token of a request: the `Authorization` header, or on a GET an `access_token` parameter (the dashboard's event stream cannot set headers). */
export function bearerToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : '';
  }
  if (req.method === 'GET') return url.searchParams.get('access_token') ?? undefined;
  return undefined;
}

const looksLikeJwt = (t: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(t);

/** Decides, per request, who calls and whether it may (see {@link AuthOptions}); `server.ts` asks it before any route. */
export class AccessControl {
  private constructor(
    private readonly tokens: StaticTokens | undefined,
    private readonly jwt: ((token: string) => Promise<Principal>) | undefined,
    private readonly policy: Policy | undefined,
    private readonly metricsOpen: boolean,
  ) {}

  /** Reads the tokens file and the policy, and checks the JWT options: a mistake fails the start (`AUTH_CONFIG_INVALID`). */
  static create(options: AuthOptions | undefined): AccessControl {
    const o = options ?? {};
    const tokens =
      o.tokensFile !== undefined || o.tokens !== undefined
        ? StaticTokens.of([...(o.tokensFile === undefined ? [] : StaticTokens.entriesOf(o.tokensFile)), ...(o.tokens ?? [])], o.tokensFile ?? 'server.auth.tokens')
        : undefined;
    const policy = o.policy === undefined ? undefined : typeof o.policy === 'string' ? loadPolicy(o.policy) : checkPolicy(o.policy, 'server.auth.policy');
    return new AccessControl(tokens, o.jwt === undefined ? undefined : jwtVerifier(o.jwt), policy, o.metricsOpen === true);
  }

  /** Whether callers must present a token (tokens or a JWKS are configured). */
  get authenticates(): boolean {
    return this.tokens !== undefined || this.jwt !== undefined;
  }

  /**
   * Who calls and whether it may do what the request does: 401 without a token or with
   * one that is unknown, expired or badly signed; 403 when its roles are below the action's
   * ({@link ACTION_ROLE}) or the policy denies it.
   */
  async check(req: IncomingMessage, url: URL, path: string, labels: Readonly<Record<string, string>>): Promise<AccessGrant | AccessRefusal> {
    const action = routeAction(req.method ?? 'GET', path, this.metricsOpen || !this.authenticates);
    if (action === 'open') return { principal: ANONYMOUS, action };
    let principal = ANONYMOUS;
    if (this.authenticates) {
      const token = bearerToken(req, url);
      if (token === undefined || token === '') {
        return { status: 401, code: 'UNAUTHENTICATED', action, message: `${req.method} ${path} needs a bearer token (Authorization: Bearer <token>): ${token === '' ? 'the Authorization header is not of the Bearer scheme' : 'none was sent'}` };
      }
      const found = this.tokens?.lookup(token);
      if (found !== undefined) principal = found;
      else if (this.jwt !== undefined && looksLikeJwt(token)) {
        try {
          principal = await this.jwt(token);
        } catch (e) {
          return { status: 401, code: 'UNAUTHENTICATED', action, message: e instanceof SluiceError ? e.message.split('\n')[0]!.replace(/^\[\w+\] /, '') : (e as Error).message };
        }
      } else {
        return { status: 401, code: 'UNAUTHENTICATED', action, message: 'the bearer token is not known to this server' };
      }
      const needed = ACTION_ROLE[action];
      if (!holds(principal.roles, needed)) {
        return {
          status: 403,
          code: 'ACCESS_DENIED',
          action,
          principal,
          message: `'${principal.subject}' (roles: ${principal.roles.join(', ') || 'none'}) may not ${action}: it needs the role ${needed}`,
        };
      }
    }
    if (this.policy !== undefined) {
      const decision = evaluatePolicy(this.policy, { action, claims: { ...principal.claims, roles: principal.roles }, labels });
      if (decision.effect === 'deny') {
        return { status: 403, code: 'ACCESS_DENIED', action, principal, message: `'${principal.subject}' may not ${action} this job: the policy denies it (${decision.rule ?? 'its default'})` };
      }
      return { principal, action, ...(decision.rule === undefined ? {} : { rule: decision.rule }) };
    }
    return { principal, action };
  }
}
