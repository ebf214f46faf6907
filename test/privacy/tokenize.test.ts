import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresTokenVault } from '../../src/connectors/postgres/index.js';
import { RedisTokenVault } from '../../src/connectors/redis/index.js';
import { Job, detokenize, fromCollection, tokenize, tokenizeCached, type TokenVault } from '../../src/index.js';
import { collecting } from '../helpers.js';

// Tokens against the real vaults: deterministic, stored before they are handed out,
// reversible only through the vault (a fresh vault instance, with an empty cache, reverses them).

const run = `${process.pid}_${Date.now()}`;
const table = `vault_${run}`;
const hash = `sluice:test-vault:${run}`;
process.env.SLUICE_TEST_TOKEN_KEY = 'token-key-of-this-test';

const vaults: Array<[string, (key?: string) => TokenVault]> = [
  ['PostgreSQL', (key = 'token-key-of-this-test') => new PostgresTokenVault({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', table, key: key === 'token-key-of-this-test' ? { env: 'SLUICE_TEST_TOKEN_KEY' } : key })],
  ['Redis', (key = 'token-key-of-this-test') => new RedisTokenVault({ url: 'redis://127.0.0.1:6379', hash, key })],
];
const opened: TokenVault[] = [];
const open = (make: (key?: string) => TokenVault, key?: string) => {
  const v = make(key);
  opened.push(v);
  return v;
};

afterAll(async () => {
  await Promise.all(opened.map((v) => v.close()));
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
  const r = new Redis('redis://127.0.0.1:6379');
  await r.del(hash);
  r.disconnect();
});

interface User {
  id: number;
  email: string;
  phone?: string;
  plan: string;
}
const users: User[] = Array.from({ length: 300 }, (_, i) => ({ id: i, email: `user-${i % 40}@example.com`, ...(i % 3 === 0 ? {} : { phone: `+44 7700 ${String(900000 + (i % 25))}` }), plan: i % 2 ? 'pro' : 'free' }));

describe.each(vaults)('tokenize with a %s vault', (_name, make) => {
  it('in a job: deterministic tokens (equal values, equal tokens), no value left, and detokenize gives the input back', async () => {
    const vault = open(make);
    const job = new Job({ name: 'tokenize' });
    const tokens = collecting<User>();
    const back = collecting<User>();
    const tokenized = job.source(fromCollection(users), { uid: 'in' }).asyncMap(tokenize<User>(['email', 'phone'], vault), { uid: 'tokenize', capacity: 32 });
    tokenized.sinkTo(tokens.sink, { uid: 'tokens' });
    tokenized.asyncMap(detokenize<User>(['email', 'phone'], open(make)), { uid: 'detokenize', capacity: 32 }).sinkTo(back.sink, { uid: 'back' });
    await job.run();

    expect(back.out.values).toEqual(users);
    const byEmail = new Map<string, Set<string>>();
    for (const [i, t] of tokens.out.values.entries()) {
      expect(t.email).toMatch(/^tok_[\w-]{22}$/);
      expect(t.plan).toBe(users[i]!.plan);
      expect('phone' in t).toBe('phone' in users[i]!);
      byEmail.set(users[i]!.email, (byEmail.get(users[i]!.email) ?? new Set()).add(t.email));
    }
    // One token per distinct value, and distinct values get distinct tokens.
    expect([...byEmail.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...byEmail.values()].map((s) => [...s][0])).size).toBe(byEmail.size);
    expect(JSON.stringify(tokens.out.values)).not.toMatch(/@example\.com|\+44/);
  });

  it('the warm path tokenises from memory; another key makes other tokens, which this vault does not know', async () => {
    const vault = open(make);
    const user = users[1]!;
    expect(tokenizeCached<User>(['email'], vault)(user)).toBeUndefined();
    const t = await tokenize<User>(['email'], vault)(user);
    expect(tokenizeCached<User>(['email'], vault)(user)).toEqual(t);
    const other = open(make, 'another-key');
    const t2 = await tokenize<User>(['email'], other)(user);
    expect(t2.email).not.toBe(t.email);
    await expect(detokenize<User>(['email'], vault)({ ...user, email: 'tok_notATokenOfThisVault0' })).rejects.toMatchObject({ code: 'TOKEN_UNKNOWN' });
  });
});
