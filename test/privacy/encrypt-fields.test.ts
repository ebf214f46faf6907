import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresKeyStore } from '../../src/connectors/postgres/index.js';
import { FileKeyStore, Job, SubjectKeys, decryptFields, encryptFields, fromCollection, type DeadLetter, type KeyStore } from '../../src/index.js';
import { collecting } from '../helpers.js';

// Per-subject field encryption against the real key stores, and crypto-shredding: once a
// subject's key is forgotten, no process (no cache) can read what was encrypted for it.

const MASTER = randomBytes(32).toString('hex');
process.env.SLUICE_TEST_MASTER_KEY = MASTER;
const table = `keys_${process.pid}_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'sluice-keys-'));

const stores: Array<[string, () => KeyStore]> = [
  ['a PostgreSQL table', () => new PostgresKeyStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', table })],
  ['a local file', () => new FileKeyStore(join(dir, 'keys.json'))],
];
const opened: SubjectKeys[] = [];
const keysOn = (store: KeyStore, masterKey = { env: 'SLUICE_TEST_MASTER_KEY' } as const) => {
  const k = new SubjectKeys({ store, masterKey });
  opened.push(k);
  return k;
};

afterAll(async () => {
  await Promise.all(opened.map((k) => k.close()));
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
});

interface Person {
  userId: string;
  email: string;
  card: string;
  age: number;
  country: string;
}
const people: Person[] = Array.from({ length: 60 }, (_, i) => ({ userId: `u${i % 6}`, email: `p${i}@example.com`, card: `4111-0000-0000-${String(1000 + i)}`, age: 20 + i, country: i % 2 ? 'FR' : 'DE' }));
const FIELDS = ['email', 'card', 'age'] as const;

describe.each(stores)('encryptFields with keys in %s', (_name, makeStore) => {
  it('encrypts per subject, decrypts back (types kept); forget shreds one subject for every reader', async () => {
    const keys = keysOn(makeStore());
    const job = new Job({ name: 'encrypt' });
    const enc = collecting<Person>();
    job.source(fromCollection(people), { uid: 'in' }).asyncMap(encryptFields<Person>(FIELDS, { subject: 'userId', keys }), { uid: 'encrypt', capacity: 16 }).sinkTo(enc.sink, { uid: 'out' });
    await job.run();
    const encrypted = enc.out.values;
    const text = JSON.stringify(encrypted);
    expect(text).not.toMatch(/@example\.com|4111-|"age":\d/);
    expect(encrypted.every((p) => p.email.startsWith('enc:v1:') && p.country.length === 2 && p.userId.startsWith('u'))).toBe(true);
    // A fresh IV each time: equal values do not give equal ciphertexts.
    const again = await encryptFields<Person>(FIELDS, { subject: 'userId', keys })(people[0]!);
    expect(again.email).not.toBe(encrypted[0]!.email);

    // Another process (another SubjectKeys on the same store, empty cache) reads it all.
    const reader = keysOn(makeStore());
    const decrypt = decryptFields<Person>(FIELDS, { subject: 'userId', keys: reader });
    expect(await Promise.all(encrypted.map(decrypt))).toEqual(people);

    expect(await keys.forget('u3')).toBe(true);
    expect(await keys.forget('u3')).toBe(false);
    // A reader that never cached u3's key: nothing of u3 can be read; the others can.
    const late = keysOn(makeStore());
    const lateDecrypt = decryptFields<Person>(FIELDS, { subject: 'userId', keys: late });
    for (const [i, p] of encrypted.entries()) {
      if (p.userId === 'u3') await expect(lateDecrypt(p)).rejects.toMatchObject({ code: 'SUBJECT_FORGOTTEN' });
      else expect(await lateDecrypt(p)).toEqual(people[i]);
    }
    // The forgetting SubjectKeys itself no longer holds it either.
    await expect(decryptFields<Person>(FIELDS, { subject: 'userId', keys })(encrypted[3]!)).rejects.toMatchObject({ code: 'SUBJECT_FORGOTTEN' });
    // A new record of u3 gets a new key: the old data stays unreadable under it.
    await encryptFields<Person>(FIELDS, { subject: 'userId', keys })(people[3]!);
    await expect(decryptFields<Person>(FIELDS, { subject: 'userId', keys: keysOn(makeStore()) })(encrypted[3]!)).rejects.toMatchObject({ code: 'PRIVACY_CONFIG_INVALID' });
  });

  it('a forgotten subject’s records go to the dead letters still encrypted; a wrong master key or a moved field is refused', async () => {
    const keys = keysOn(makeStore());
    const alice = { userId: 'alice', email: 'alice@example.com', card: '4111111111111111', age: 30, country: 'DE' };
    const encrypted = await encryptFields<Person>(FIELDS, { subject: 'userId', keys })(alice);
    await keys.forget('alice');
    const job = new Job({ name: 'decrypt', onError: 'dead-letter' });
    const out = collecting<Person>();
    const dead = collecting<DeadLetter>();
    job.source(fromCollection([encrypted]), { uid: 'in' }).asyncMap(decryptFields<Person>(FIELDS, { subject: 'userId', keys: keysOn(makeStore()) }), { uid: 'decrypt' }).sinkTo(out.sink, { uid: 'out' });
    job.deadLetters().sinkTo(dead.sink, { uid: 'dead' });
    await job.run();
    expect(out.out.values).toEqual([]);
    expect(dead.out.values).toHaveLength(1);
    expect(dead.out.values[0]!.error.code).toBe('SUBJECT_FORGOTTEN');
    expect(JSON.stringify(dead.out.values)).not.toMatch(/alice@example\.com|4111111111111111/);

    const bob = await encryptFields<Person>(FIELDS, { subject: 'userId', keys })({ ...alice, userId: 'bob' });
    const wrongMaster = keysOn(makeStore(), randomBytes(32).toString('base64') as never);
    await expect(decryptFields<Person>(FIELDS, { subject: 'userId', keys: wrongMaster })(bob)).rejects.toMatchObject({ code: 'PRIVACY_CONFIG_INVALID' });
    const moved = { ...bob, email: bob.card };
    await expect(decryptFields<Person>(FIELDS, { subject: 'userId', keys })(moved)).rejects.toThrow(/does not decrypt/);
  });
});

describe('the file key store', () => {
  it('holds only wrapped keys, and a forgotten subject is gone from the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.json');
    const keys = keysOn(new FileKeyStore(path));
    const key = await keys.keyOf('carol', true);
    await keys.keyOf('dave', true);
    const file = readFileSync(path, 'utf8');
    expect(Object.keys(JSON.parse(file) as object).sort()).toEqual(['carol', 'dave']);
    expect(file).not.toContain(key!.toString('base64'));
    await keys.forget('carol');
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')) as object)).toEqual(['dave']);
  });

  it('refuses a master key that is not 32 bytes, and the subject field among the encrypted ones', async () => {
    const keys = keysOn(new FileKeyStore(join(dir, 'short.json')), 'c2hvcnQ=' as never);
    await expect(keys.keyOf('x', true)).rejects.toMatchObject({ code: 'PRIVACY_CONFIG_INVALID' });
    expect(() => encryptFields<Person>(['userId', 'email'], { subject: 'userId', keys })).toThrow(/cannot be encrypted itself/);
  });
});
