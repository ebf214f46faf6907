import { createHmac } from 'node:crypto';
import { resolveSecretSync, type Secret } from '../errors/secret.js';
import { SluiceError } from '../errors/index.js';

/** What every vault takes: the key tokens are derived with. */
export interface TokenVaultOptions {
  /** The key of the keyed hash that makes tokens (any length; 32 random bytes is right). Usually a reference: `{ env: 'TOKEN_KEY' }`. */
  key: Secret;
  /** Put before each token (default `tok_`), so that a token is recognisable as one. */
  prefix?: string;
  /** Values whose tokens are kept in memory (default 100,000): a warm cache tokenises without a round trip. */
  cacheSize?: number;
}

/**
 * Where tokens are reversible: a store of token → value (PostgreSQL: `sluice/postgres`,
 * Redis: `sluice/redis`). Tokens are deterministic: the same value always gets the same
 * token (an HMAC of the value under the vault's key), so tokenised fields still join,
 * group and count; only the vault turns a token back into its value ({@link detokenize}).
 *
 * A subclass stores and looks up; this class makes tokens and keeps the cache.
 */
export abstract class TokenVault {
  private key: Buffer | undefined;
  private readonly cache = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();
  readonly prefix: string;
  private readonly cacheSize: number;

  constructor(private readonly options: TokenVaultOptions) {
    this.prefix = options.prefix ?? 'tok_';
    this.cacheSize = options.cacheSize ?? 100_000;
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 0) throw new SluiceError('PRIVACY_CONFIG_INVALID', `a token vault's cacheSize must be a whole number, got ${options.cacheSize}`);
  }

  /** Stores token → value pairs (idempotent: a pair stored twice is one pair). */
  protected abstract store(pairs: ReadonlyArray<readonly [string, string]>): Promise<void>;
  /** The values of tokens, undefined where unknown. */
  protected abstract lookup(tokens: readonly string[]): Promise<Array<string | undefined>>;
  /** Closes the connection. */
  abstract close(): Promise<void>;

  /** The token of `value` (no round trip): an HMAC-SHA-256 under the vault's key, base64url, 128 bits. */
  tokenOf(value: string): string {
    this.key ??= Buffer.from(resolveSecretSync(this.options.key, 'token vault key'));
    return this.prefix + createHmac('sha256', this.key).update(value).digest('base64url').slice(0, 22);
  }

  /** The token of `value` when it is already known to be stored (the warm path: no promise, no round trip). */
  cached(value: string): string | undefined {
    return this.cache.get(value);
  }

  /** The token of `value`, stored in the vault before it is handed out (so it can always be reversed). */
  tokenize(value: string): Promise<string> {
    const hit = this.cache.get(value);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(value);
    if (p === undefined) {
      const token = this.tokenOf(value);
      p = this.store([[token, value]]).then(
        () => {
          this.pending.delete(value);
          if (this.cacheSize > 0) {
            if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
            this.cache.set(value, token);
          }
          return token;
        },
        (e: unknown) => {
          this.pending.delete(value);
          throw e;
        },
      );
      this.pending.set(value, p);
    }
    return p;
  }

  /** The values of `tokens`; a token the vault does not hold fails with `TOKEN_UNKNOWN`. */
  async detokenize(tokens: readonly string[]): Promise<string[]> {
    const values = await this.lookup(tokens);
    return values.map((v, i) => {
      if (v === undefined) throw new SluiceError('TOKEN_UNKNOWN', `the vault holds no value for the token '${tokens[i]}'`);
      return v;
    });
  }
}
