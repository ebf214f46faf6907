/**
 * The Cassandra backend against a real Apache Cassandra (127.0.0.1:9042, started by
 * test/setup/cassandra.ts through scripts/cassandra/start.sh): the shared backend suite and
 * the external backends' checkpoint cases, in a keyspace of this run (dropped at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'cassandra-driver';
import { afterAll, beforeAll } from 'vitest';
import { CassandraStateBackend, ensureCassandraStateSchema } from '../../../src/state/external/cassandra-backend.js';
import { describeStateBackend } from '../../../src/testing/index.js';
import type { ManualClock } from '../../../src/time/clock.js';
import { externalBackendCases, MAXP } from './external-cases.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-cassandra-state-'));
const keyspace = `sluice_test_${process.pid}`;
const run = `run-${Date.now()}`;
let n = 0;
const client = new Client({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', socketOptions: { readTimeout: 30_000 } });
const make = (clock: ManualClock, prefix = `${run}:p${n}`): CassandraStateBackend =>
  new CassandraStateBackend({ clock, client, keyspace, prefix, maxParallelism: MAXP, path: join(root, `b${n++}`), cacheSize: 50 });

beforeAll(async () => {
  await client.connect();
  await ensureCassandraStateSchema(client, keyspace);
}, 120_000);

afterAll(async () => {
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
  await client.shutdown();
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describeStateBackend('cassandra (local cache of 50 entries)', (clock) => make(clock));

externalBackendCases('cassandra', make, {
  run,
  stored: async (prefix) => {
    let rows = 0;
    let pageState: string | undefined;
    do {
      const r = await client.execute(`SELECT version FROM ${keyspace}.state_records`, [], { prepare: true, fetchSize: 5000, ...(pageState ? { pageState } : {}) });
      for (const row of r.rows) if (String(row['version']).startsWith(prefix)) rows++;
      pageState = r.pageState ?? undefined;
    } while (pageState !== undefined);
    return rows;
  },
  unmark: async (version) => {
    await client.execute(`DELETE FROM ${keyspace}.state_versions WHERE version = ?`, [version], { prepare: true });
  },
});
