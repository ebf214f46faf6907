/**
 * A member's lag read (`MemberFigures.lag`) when the brokers do not answer: a scrape gets
 * no samples in about the timeout, never an error, and the Admin client it made is closed.
 * The brokers here are a TCP server that accepts connections and never answers (a broker
 * hung, or a network that drops replies), and a port nobody listens on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangelogStorage } from '../../src/cluster/changelog-storage.js';
import { MemberFigures } from '../../src/cluster/member-figures.js';
import { loadKafkaClient } from '../../src/connectors/kafka/client.js';
import type { ClusterMember } from '../../src/cluster/member.js';
import { SystemClock } from '../../src/time/clock.js';
import { until } from '../cli/processes.js';

/** Just what MemberFigures reads of a member that owns partition 0 of `in` and of a repartition topic. */
const member = {
  name: 'm0',
  assignment: new Map([
    ['in', [0]],
    ['c-count-repartition', [0]],
  ]),
  rebalances: 1,
  lastRebalanceMs: 1200,
} as unknown as ClusterMember;
const storage = { restoring: false, restoredTotal: { restores: 1, tasks: 1, local: 0, entries: 5, bytes: 100, ms: 3 } } as unknown as ChangelogStorage;

function figuresAt(brokers: string[], joined: Promise<ClusterMember> = Promise.resolve(member)): MemberFigures {
  return new MemberFigures('c', Promise.resolve({ bootstrapBrokers: brokers }), joined, storage, new Set(['c-count-repartition']), new SystemClock());
}

// Loaded once before: its first load (within a read's timeout too) would take most of a short one.
beforeAll(async () => {
  await loadKafkaClient();
});

let silent: Server | undefined;
afterEach(async () => {
  const server = silent;
  silent = undefined;
  if (server) await new Promise((resolve) => server.close(resolve));
});

describe('a member’s figures', () => {
  it('tasks by role, rebalances and restores; nothing before the member joined', async () => {
    expect(figuresAt(['127.0.0.1:1'], new Promise(() => {})).figures()).toBeUndefined();
    const f = figuresAt(['127.0.0.1:1']);
    await Promise.resolve();
    expect(f.figures()).toEqual({
      member: 'm0',
      tasks: [
        { topic: 'c-count-repartition', partition: 0, role: 'repartition' },
        { topic: 'in', partition: 0, role: 'source' },
      ],
      rebalances: 1,
      lastRebalanceMs: 1200,
      restoring: false,
      restored: { restores: 1, tasks: 1, local: 0, entries: 5, bytes: 100, ms: 3 },
      standbys: [],
    });
  });

  it('no lag, within the timeout, from brokers that accept connections and never answer; the client is closed', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    silent = createServer((s) => {
      sockets.push(s);
      s.resume(); // reads (and drops) the requests, so that it sees the client close
      s.on('close', () => closed++);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const f = figuresAt([`127.0.0.1:${port}`]);
    await Promise.resolve();
    const started = Date.now();
    expect(await f.lag(500)).toEqual([]);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2000);
    expect(sockets.length).toBeGreaterThan(0); // it did ask
    // The Admin client let go of every connection it made.
    await until(() => (closed === sockets.length ? true : undefined), 5000, () => `${closed} of ${sockets.length} connections closed`);
  });

  it('no lag, at once, from brokers nobody listens on', async () => {
    const f = figuresAt(['127.0.0.1:1']);
    await Promise.resolve();
    const started = Date.now();
    expect(await f.lag(2000)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
