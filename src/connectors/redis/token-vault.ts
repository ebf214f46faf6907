import type { Redis } from 'ioredis';
import { connectRedis } from './client.js';
import type { RedisConnection } from './connection.js';
import { TokenVault, type TokenVaultOptions } from '../../privacy/token-vault.js';

/** Options of {@link RedisTokenVault}: the vault's key, and where Redis is. */
export interface RedisTokenVaultOptions extends TokenVaultOptions, RedisConnection {
  /** The Redis hash holding token → value (default `sluice:token-vault`). */
  hash?: string;
}

/**
 * A {@link TokenVault} in a Redis hash (token → value). Connects on first use.
 *
 * @example
 * import { RedisTokenVault } from 'sluice/redis';
 * const vault = new RedisTokenVault({ url: { env: 'REDIS_URL' }, key: { env: 'TOKEN_KEY' } });
 * users.asyncMap(tokenize(['email'], vault), { uid: 'tokenize' });
 */
export class RedisTokenVault extends TokenVault {
  private client: Promise<Redis> | undefined;
  private readonly hash: string;

  constructor(private readonly opts: RedisTokenVaultOptions) {
    super(opts);
    this.hash = opts.hash ?? 'sluice:token-vault';
  }

  private redis(): Promise<Redis> {
    this.client ??= connectRedis(this.opts, 'token-vault', 'lookup').catch((e: unknown) => {
      this.client = undefined;
      throw e;
    });
    return this.client;
  }

  protected async store(pairs: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const r = await this.redis();
    // HSETNX: a token is bound to its value once; the same pair again changes nothing.
    const multi = r.multi();
    for (const [t, v] of pairs) multi.hsetnx(this.hash, t, v);
    await multi.exec();
  }

  protected async lookup(tokens: readonly string[]): Promise<Array<string | undefined>> {
    if (tokens.length === 0) return [];
    const values = await (await this.redis()).hmget(this.hash, ...tokens);
    return values.map((v) => v ?? undefined);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) (await c.catch(() => undefined))?.disconnect();
  }
}
