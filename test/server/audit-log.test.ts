import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../src/server/audit-log.js';

const entry = (time: string, n: number): AuditEntry => ({
  time,
  subject: `user-${n}`,
  roles: ['operator'],
  action: 'cancel',
  job: 'orders',
  method: 'POST',
  path: '/jobs/orders/cancel',
  address: '10.0.0.7',
  result: 'ok',
  status: 202,
});

const lines = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);

describe('AuditLog', () => {
  it('one file per UTC day; a second log on the same directory appends, never rewrites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-'));
    const first = new AuditLog({ dir });
    // Concurrent appends: serialised, every line whole.
    await Promise.all([entry('2026-12-06T23:59:59.900Z', 1), entry('2026-12-06T23:59:59.950Z', 2)].map((e) => first.append(e)));
    await first.append(entry('2026-12-07T00:00:00.010Z', 3));
    await first.close();
    const second = new AuditLog({ dir });
    await second.append(entry('2026-12-07T08:00:00.000Z', 4));
    await second.close();
    expect(readdirSync(dir).sort()).toEqual(['audit-2026-12-06.jsonl', 'audit-2026-12-07.jsonl']);
    expect(lines(dir, 'audit-2026-12-06.jsonl').map((e) => e.subject)).toEqual(['user-1', 'user-2']);
    expect(lines(dir, 'audit-2026-12-07.jsonl').map((e) => e.subject)).toEqual(['user-3', 'user-4']);
  });

  it('hands each entry to a sink (here a PostgreSQL table) after it is on disk; a failing sink loses nothing from the file', async () => {
    const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
    await client.connect();
    const table = `audit_${process.pid}_${Date.now()}`;
    await client.query(`CREATE TABLE ${table} (entry jsonb NOT NULL)`);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-'));
      const log = new AuditLog({ dir, sink: async (e) => void (await client.query(`INSERT INTO ${table} VALUES ($1)`, [JSON.stringify(e)])) });
      for (let i = 0; i < 5; i++) await log.append(entry('2026-12-07T10:00:00.000Z', i));
      await log.close();
      const rows = await client.query<{ entry: AuditEntry }>(`SELECT entry FROM ${table}`);
      expect(rows.rows.map((r) => r.entry)).toEqual(lines(dir, 'audit-2026-12-07.jsonl'));

      const failures: unknown[] = [];
      const broken = new AuditLog({ dir, sink: () => Promise.reject(new Error('sink down')) }, (e) => failures.push(e));
      await broken.append(entry('2026-12-07T11:00:00.000Z', 9));
      await broken.close();
      expect(failures).toHaveLength(1);
      expect(lines(dir, 'audit-2026-12-07.jsonl').map((e) => e.subject).at(-1)).toBe('user-9');
    } finally {
      await client.query(`DROP TABLE ${table}`);
      await client.end();
    }
  });
});
