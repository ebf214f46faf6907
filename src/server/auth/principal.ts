import type { Role } from './roles.js';

/** Who made a request, once authenticated: the subject, its roles and its token's claims (for policies). */
export interface Principal {
  /** The token's subject: a static token's `subject`, a JWT's `sub`; `anonymous` on an open server. */
  readonly subject: string;
  readonly roles: readonly Role[];
  /** A JWT's claims, or a static token's `claims`: what attribute rules (`policy.ts`) read. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** How the caller proved it: a static token, a JWT, or nothing (a server without authentication). */
  readonly via: 'token' | 'jwt' | 'none';
}

/** The caller of a server without authentication (loopback, or `--insecure`): it may do everything. */
export const ANONYMOUS: Principal = Object.freeze({ subject: 'anonymous', roles: ['admin'] as const, claims: {}, via: 'none' as const });
