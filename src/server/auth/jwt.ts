import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { SluiceError } from '../../errors/index.js';
import type { Principal } from './principal.js';
import { rolesOf } from './roles.js';

/** How JWTs are checked (OIDC access tokens): the issuer's key set, and what the token must say. */
export interface JwtOptions {
  /** The JWKS URL of the issuer, such as `https://id.example.com/.well-known/jwks.json`. */
  jwksUrl: string;
  /** The `iss` a token must carry. Recommended. */
  issuer?: string;
  /** The `aud` a token must carry (one of). Recommended. */
  audience?: string | string[];
  /** The claim holding the roles, a dotted path for nested ones (`realm_access.roles`). Default `roles`. */
  rolesClaim?: string;
  /** Allowed clock difference when checking `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSec?: number;
}

/** The value at a dotted path of the claims (`realm_access.roles`). */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Verifies bearer JWTs against the issuer's JWKS with `jose` (signature, `exp`, `nbf`,
 * and `iss` / `aud` when set). The key set is fetched on first use and again when a token
 * names a key it does not know (key rotation), at most once per 30 s.
 *
 * @example
 * const verify = jwtVerifier({ jwksUrl: 'https://id.example.com/jwks', issuer: 'https://id.example.com', audience: 'sluice' });
 * const who = await verify(token); // { subject: 'alice', roles: ['viewer'], claims: {...}, via: 'jwt' }
 */
export function jwtVerifier(options: JwtOptions): (token: string) => Promise<Principal> {
  let url: URL;
  try {
    url = new URL(options.jwksUrl);
  } catch {
    throw new SluiceError('AUTH_CONFIG_INVALID', `server.auth.jwt.jwksUrl is not a URL: '${options.jwksUrl}'`);
  }
  const jwks = createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  const rolesClaim = options.rolesClaim ?? 'roles';
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        clockTolerance: options.clockToleranceSec ?? 30,
      }));
    } catch (e) {
      // The reason (expired, bad signature, wrong audience) helps the caller; the token itself is never repeated.
      const reason = e instanceof errors.JOSEError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new SluiceError('UNAUTHENTICATED', `the bearer JWT was refused (${reason})`);
    }
    const subject = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
    if (subject === undefined) throw new SluiceError('UNAUTHENTICATED', 'the bearer JWT has no subject (sub)');
    return Object.freeze({ subject, roles: rolesOf(claimAt(payload, rolesClaim)), claims: Object.freeze({ ...payload }), via: 'jwt' as const });
  };
}
