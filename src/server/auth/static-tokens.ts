import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveSecretSync, type Secret } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { Principal } from './principal.js';
import { rolesOf } from './roles.js';

/**
 * One entry of a tokens file: the token itself or, better, its SHA-256 (hex) so that the
 * file holds no usable secret; the subject it stands for, its roles, and optional claims
 * that attribute rules read (`{ "team": "payments" }`).
 */
export interface StaticTokenEntry {
  /** The token, or a reference to it (`{ env: 'SLUICE_CI_TOKEN' }`, read at start). */
  token?: Secret;
  sha256?: string;
  subject: string;
  roles: string[];
  claims?: Record<string, unknown>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Bearer tokens read once from a JSON file (`server.auth.tokensFile`, `--tokens-file`):
 *
 * ```json
 * { "tokens": [
 *   { "sha256": "9f86d0…", "subject": "ci", "roles": ["operator"], "claims": { "team": "payments" } },
 *   { "token": "dev-only", "subject": "me", "roles": ["admin"] } ] }
 * ```
 *
 * A token is looked up by its hash, so the lookup takes the same time whatever prefix matches.
 *
 * @example
 * const tokens = StaticTokens.fromFile('/run/secrets/sluice-tokens.json');
 * tokens.lookup('dev-only')?.subject; // 'me'
 */
export class StaticTokens {
  private constructor(private readonly byHash: ReadonlyMap<string, Principal>) {}

  static fromFile(file: string): StaticTokens {
    return StaticTokens.of(StaticTokens.entriesOf(file), file);
  }

  /** The entries of a tokens file, unchecked. */
  static entriesOf(file: string): StaticTokenEntry[] {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SluiceError('AUTH_CONFIG_INVALID', `cannot read the tokens file ${file}: ${(e as Error).message}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new SluiceError('AUTH_CONFIG_INVALID', `the tokens file ${file} is not JSON: ${(e as Error).message}`);
    }
    const list = (data as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(list)) throw new SluiceError('AUTH_CONFIG_INVALID', `the tokens file ${file} needs { "tokens": [ … ] }`);
    return list as StaticTokenEntry[];
  }

  static of(entries: readonly StaticTokenEntry[], where = 'server.auth.tokens'): StaticTokens {
    const byHash = new Map<string, Principal>();
    entries.forEach((e, i) => {
      // Never echo the token itself in a message: only the entry's position and subject.
      const at = `${where}: entry ${i}${typeof e?.subject === 'string' ? ` (subject '${e.subject}')` : ''}`;
      if (typeof e !== 'object' || e === null || typeof e.subject !== 'string' || e.subject === '') throw new SluiceError('AUTH_CONFIG_INVALID', `${at} needs a subject`);
      const token = e.token === undefined ? undefined : resolveSecretSync(e.token, `${at}: token`);
      const hash = typeof e.sha256 === 'string' ? e.sha256.toLowerCase() : typeof token === 'string' && token.length > 0 ? sha256(token) : undefined;
      if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) throw new SluiceError('AUTH_CONFIG_INVALID', `${at} needs a token or its sha256 (64 hex digits)`);
      const roles = rolesOf(e.roles);
      if (roles.length === 0) throw new SluiceError('AUTH_CONFIG_INVALID', `${at} has no role among viewer, operator, admin`);
      if (byHash.has(hash)) throw new SluiceError('AUTH_CONFIG_INVALID', `${at} repeats a token of an earlier entry`);
      byHash.set(hash, Object.freeze({ subject: e.subject, roles, claims: Object.freeze({ sub: e.subject, ...(e.claims ?? {}) }), via: 'token' as const }));
    });
    return new StaticTokens(byHash);
  }

  /** The principal of `token`, or undefined when no entry has it. */
  lookup(token: string): Principal | undefined {
    return this.byHash.get(sha256(token));
  }
}
