/**
 * A cluster member's metrics (issue 16), scraped from real `sluice run --cluster`
 * processes on the real broker with their server on: the tasks each owns (together every
 * partition of the input and repartition topics, once), rebalances and their duration,
 * restores, and per-partition lag that comes down to the end once the input is processed.
 * The GET /jobs/:id JSON carries the same figures. (A job that is not a member has none of
 * these metrics: `observe/metrics.test.ts`.)
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { serverUrl, startSluice, stopProcesses, until, type SluiceProcess } from '../cli/processes.js';
import { BROKERS, freshTopic, produce } from '../connectors/kafka/helpers.js';
import { promSamples, promValue, type PromSample } from '../fixtures/prom.js';
import type { Click } from './fixtures/window-count.js';

const JOB = new URL('./fixtures/window-count.ts', import.meta.url).pathname;
const PARTITIONS = 4;

const running: SluiceProcess[] = [];
afterEach(() => stopProcesses(running));

/** Member `name` of `cluster`, serving on a free port; resolves with the URL it serves on once it does. */
async function member(cluster: string, args: string, name: string): Promise<{ p: SluiceProcess; url: string }> {
  // Info level: the server's URL is in its `server_started` line.
  const p = startSluice(['run', JOB, '--cluster', cluster, '--kafka', BROKERS.join(','), '--member', name, '--port', '0', '--no-progress', '--log-level', 'info', '--', args]);
  running.push(p);
  return { p, url: await serverUrl(p) };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`).catch((e: Error) => {
    throw new Error(`GET ${url}/metrics failed: ${String(e.cause ?? e)}\n${running.map((p) => p.stderr().slice(-2000)).join('\n---\n')}`, { cause: e });
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** `topic/partition` of each sample. */
const partitionsOf = (samples: readonly PromSample[]) => samples.map((s) => `${s.labels.topic}/${s.labels.partition}`).sort();

/** Clicks on every input partition, in event-time order per partition, all in windows that stay open. */
function clicks(from: number, n: number): Array<{ value: string; partition: number }> {
  return Array.from({ length: n }, (_, i) => {
    const partition = i % PARTITIONS;
    return { value: JSON.stringify({ user: `user-${i % 13}`, page: `page-${partition}`, at: from + i } satisfies Click), partition };
  });
}

describe('a cluster member’s metrics (real broker, real processes)', () => {
  it('tasks, rebalances, restores and lag of two members', { timeout: 90_000 }, async () => {
    const input = await freshTopic('cluster-metrics-in', PARTITIONS);
    const output = await freshTopic('cluster-metrics-out', 1);
    const cluster = `cm-${randomUUID().slice(0, 8)}`;
    const repartition = `${cluster}-clicks-per-user-repartition`;
    const every = (topic: string) => Array.from({ length: PARTITIONS }, (_, p) => `${topic}/${p}`);
    const allTasks = [...every(input), ...every(repartition)].sort();
    const args = JSON.stringify({ input, output, groupId: `${cluster}-clicks` });
    const logs = () => running.map((p) => p.stderr().slice(-3000)).join('\n---\n');

    const a = await member(cluster, args, 'm0');
    // Alone, it owns every task; state for the changelogs comes with the first input.
    await until(async () => (partitionsOf(promSamples(await scrape(a.url), 'sluice_cluster_tasks')).join() === allTasks.join() ? true : undefined), 30_000, logs);
    await produce(input, clicks(1_000, 200));
    const caughtUp = async (url: string) => {
      const lag = promSamples(await scrape(url), 'sluice_cluster_lag_records');
      return lag.some((s) => s.labels.role === 'source') && lag.filter((s) => s.labels.role === 'source').every((s) => s.value === 0) ? true : undefined;
    };
    await until(() => caughtUp(a.url), 30_000, logs); // read and committed, with its state

    const b = await member(cluster, args, 'm1');
    const labels = (name: string) => ({ job: 'cluster-window-count', cluster, member: name });
    // Each owns half of every topic's partitions, none twice; partition p of both topics together.
    const split = async () => {
      const [ta, tb] = await Promise.all([a.url, b.url].map(async (url) => promSamples(await scrape(url), 'sluice_cluster_tasks')));
      return ta!.length > 0 && tb!.length > 0 && [...partitionsOf(ta!), ...partitionsOf(tb!)].sort().join() === allTasks.join() ? { ta: ta!, tb: tb! } : undefined;
    };
    const { ta, tb } = await until(split, 30_000, logs);
    expect(ta.every((s) => s.value === 1 && s.labels.member === 'm0' && s.labels.cluster === cluster && s.labels.job === 'cluster-window-count')).toBe(true);
    expect(tb.every((s) => s.labels.member === 'm1')).toBe(true);
    expect(new Set(ta.map((s) => `${s.labels.topic}:${s.labels.role}`))).toEqual(new Set([`${input}:source`, `${repartition}:repartition`]));
    // Sticky: the first member keeps the first half of what it owned (its state is there), the newcomer takes the rest.
    expect(partitionsOf(ta)).toEqual([`${input}/0`, `${input}/1`, `${repartition}/0`, `${repartition}/1`].sort());

    // The first member's partitions moved: a rebalance, timed once its new attempt reads again.
    const moved = await until(async () => {
      const text = await scrape(a.url);
      return promValue(text, 'sluice_cluster_rebalance_last_seconds', labels('m0')) !== undefined ? text : undefined;
    }, 30_000, logs);
    expect(promValue(moved, 'sluice_cluster_rebalances_total', labels('m0'))).toBeGreaterThanOrEqual(1);
    const took = promValue(moved, 'sluice_cluster_rebalance_last_seconds', labels('m0'))!;
    expect(took).toBeGreaterThan(0);
    expect(took).toBeLessThan(30);
    // Restores: both took tasks with state (the second from the first's changelog writes).
    const restored = await until(async () => {
      const text = await scrape(b.url);
      return (promValue(text, 'sluice_cluster_restore_entries_total', labels('m1')) ?? 0) > 0 ? text : undefined;
    }, 30_000, logs);
    expect(promValue(restored, 'sluice_cluster_restore_bytes_total', labels('m1'))).toBeGreaterThan(0);
    expect(promValue(restored, 'sluice_cluster_restore_seconds_total', labels('m1'))).toBeGreaterThanOrEqual(0);
    expect(promValue(restored, 'sluice_cluster_restoring', labels('m1'))).toBe(0);
    expect(promValue(moved, 'sluice_cluster_restore_entries_total', labels('m0'))).toBeGreaterThan(0);
    expect(promValue(restored, 'sluice_cluster_rebalances_total', labels('m1'))).toBe(0); // it joined: nothing moved away from it

    // More input: once processed, every owned partition has a lag sample, and every one
    // comes down to 0, a repartition partition too (its reader's position moves past the
    // transaction markers after its last record).
    await produce(input, clicks(2_000, 200));
    for (const [m, owned] of [[a, ta], [b, tb]] as const) {
      let lag: PromSample[] = [];
      await until(
        async () => {
          lag = promSamples(await scrape(m.url), 'sluice_cluster_lag_records');
          const settled = partitionsOf(lag).join() === partitionsOf(owned).join() && lag.every((s) => s.value === 0);
          return settled ? true : undefined;
        },
        30_000,
        () => `lag of ${m.url}: ${JSON.stringify(lag)}\n${logs()}`,
      );
    }

    // The REST API's job JSON carries the same figures.
    const job = (await (await fetch(`${a.url}/jobs/cluster-window-count`)).json()) as { cluster: { name: string; member: string; tasks: unknown[]; rebalances: number; lag: unknown[] } };
    expect(job.cluster.name).toBe(cluster);
    expect(job.cluster.member).toBe('m0');
    expect(job.cluster.tasks).toHaveLength(4);
    expect(job.cluster.rebalances).toBeGreaterThanOrEqual(1);
    expect(job.cluster.lag).toHaveLength(4);
  });
});
