import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backpressureJob, errorsJob, liveJob, metricsJob } from '../fixtures/jobs/observed-jobs.js';
import { JobMetrics } from '../../src/observe/job-metrics.js';
import type { ClusterFigures, ClusterFiguresSource, PartitionLag } from '../../src/observe/cluster-figures.js';
import { prometheusRegistry } from '../../src/observe/prometheus.js';
import { SystemClock } from '../../src/time/clock.js';
import { promSamples, promValue } from '../fixtures/prom.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sluice-metrics-'));
const step = (uid: string) => ({ job: 'metrics-job', step: uid, subtask: '0' });

describe('metrics of a real job (each one moves)', () => {
  it('records, late records, state keys, latency, watermarks and checkpoints', async () => {
    const { job } = metricsJob({ dir: dir() });
    const run = job.start();
    await run.done;
    const text = await run.monitor.registry.metrics();
    const v = (name: string, labels: Record<string, string>) => promValue(text, name, labels);
    // 2,010 events read, through the map, into three keyed steps.
    expect(v('sluice_records_in_total', step('events'))).toBe(2010);
    expect(v('sluice_records_out_total', step('events'))).toBe(2010);
    expect(v('sluice_records_in_total', step('check'))).toBe(2010);
    expect(v('sluice_records_out_total', step('check'))).toBe(2010);
    expect(v('sluice_records_in_total', step('latest'))).toBe(2010);
    // Late records: ten far behind the watermark, dropped by one window, side-output by the other.
    expect(v('sluice_late_records_dropped_total', step('drop-late'))).toBe(10);
    expect(v('sluice_late_records_side_output_total', step('side-late'))).toBe(10);
    expect(v('sluice_records_in_total', step('late-out'))).toBe(10);
    // The reduce keeps one value per key.
    expect(v('sluice_state_keys', step('latest'))).toBe(5);
    // Latency: every record that reached a sink was observed.
    expect(v('sluice_latency_seconds_count', step('latest-out'))).toBe(2010);
    expect(v('sluice_latency_seconds_bucket', { ...step('latest-out'), le: '+Inf' })).toBe(2010);
    expect(v('sluice_latency_seconds_sum', step('latest-out'))).toBeGreaterThan(0);
    // After the end of input every watermark is +Inf.
    expect(v('sluice_watermark_seconds', step('drop-late'))).toBe(Number.POSITIVE_INFINITY);
    // Checkpoints (at least the final one) with duration and size.
    expect(v('sluice_checkpoints_total', { job: 'metrics-job', status: 'completed' })).toBeGreaterThan(0);
    expect(v('sluice_checkpoint_duration_seconds_count', { job: 'metrics-job' })).toBeGreaterThan(0);
    expect(v('sluice_checkpoint_last_size_bytes', { job: 'metrics-job' })).toBeGreaterThan(0);
    expect(v('sluice_task_busy_seconds_total', { job: 'metrics-job', task: 'events' })).toBeGreaterThan(0);
    expect(v('sluice_job_up', { job: 'metrics-job', status: 'finished' })).toBe(0);
    // Not a cluster member: no cluster metrics (see cluster/member-metrics.test.ts for a member's).
    expect(text).not.toContain('sluice_cluster_');
    // The JSON snapshot agrees.
    const snap = run.monitor.metrics.snapshot();
    const drop = snap.steps.find((s) => s.uid === 'drop-late')!;
    expect(drop.lateDropped).toBe(10);
    expect(drop.watermark).toBe('end');
    expect(snap.steps.find((s) => s.uid === 'latest-out')!.latencyMs!.count).toBe(2010);
  });

  it('errors and dead letters with a throwing map under the dead-letter policy', async () => {
    const { job, out } = errorsJob();
    const run = job.start();
    await run.done;
    const text = await run.monitor.registry.metrics();
    expect(promValue(text, 'sluice_errors_total', { job: 'errors-job', step: 'check' })).toBe(3);
    expect(promValue(text, 'sluice_dead_letters_total', { job: 'errors-job', step: 'check' })).toBe(3);
    expect(promValue(text, 'sluice_records_out_total', { job: 'errors-job', step: 'check' })).toBe(2010);
    expect(promValue(text, 'sluice_records_in_total', { job: 'errors-job', step: 'dead-out' })).toBe(3);
    expect(out.values.length).toBe(2013);
  });

  it('backpressure, queue fill and source backlog with a slow sink behind a channel', async () => {
    const job = backpressureJob();
    const run = job.start();
    let maxFill = 0;
    let maxBacklog = 0;
    const poll = setInterval(() => {
      const s = run.monitor.metrics.snapshot();
      for (const c of s.channels) maxFill = Math.max(maxFill, c.fill);
      for (const st of s.steps) maxBacklog = Math.max(maxBacklog, st.backlog ?? 0);
    }, 5);
    await run.done;
    clearInterval(poll);
    const text = await run.monitor.registry.metrics();
    const bp = promValue(text, 'sluice_task_backpressured_seconds_total', { job: 'slow', task: 'a' })!;
    expect(bp).toBeGreaterThan(0);
    // The union's task is busy writing (the slow sink) and idle at times; the sources mostly wait.
    expect(promValue(text, 'sluice_task_busy_seconds_total', { job: 'slow', task: 'union-1' })).toBeGreaterThan(bp / 10);
    expect(promValue(text, 'sluice_task_idle_seconds_total', { job: 'slow', task: 'union-1' })).toBeGreaterThan(0);
    expect(maxFill).toBeGreaterThanOrEqual(1);
    expect(maxBacklog).toBeGreaterThan(0);
    expect(text).toMatch(/sluice_channel_queue_fill_ratio\{job="slow",from="a",to="union-1"\}/);
    expect(text).toMatch(/sluice_source_backlog_records\{job="slow",step="a",subtask="0"\} 0/);
  });

  it('watermark lag while an unbounded job runs, and restarts and checkpoint alignment', async () => {
    const job = liveJob({ dir: dir() });
    const run = job.start();
    // Wait for a completed checkpoint and a moving watermark (slow to come on a loaded machine).
    let text = '';
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      text = await run.monitor.registry.metrics();
      const aligned = promValue(text, 'sluice_checkpoint_last_alignment_seconds', { job: 'live' });
      if (i >= 4 && aligned !== undefined && (promValue(text, 'sluice_watermark_lag_seconds', { job: 'live', step: 'per-user' }) ?? 0) > 0) break;
    }
    run.cancel();
    await run.done;
    const lag = promValue(text, 'sluice_watermark_lag_seconds', { job: 'live', step: 'per-user' })!;
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThan(60);
    expect(promValue(text, 'sluice_watermark_seconds', { job: 'live', step: 'per-user' })).toBeGreaterThan(1.6e9);
    expect(promValue(text, 'sluice_checkpoint_last_alignment_seconds', { job: 'live' })).toBeGreaterThanOrEqual(0);
    expect(promValue(text, 'sluice_job_up', { job: 'live', status: 'running' })).toBe(1);
  });

  it('metrics: false counts nothing, but checkpoint gauges remain', async () => {
    const { job } = metricsJob({ dir: dir(), metrics: false });
    const run = job.start();
    await run.done;
    const text = await run.monitor.registry.metrics();
    expect(promValue(text, 'sluice_records_in_total', step('events'))).toBeUndefined();
    expect(promValue(text, 'sluice_checkpoints_total', { job: 'metrics-job', status: 'completed' })).toBeGreaterThan(0);
  });

  it("a cluster member's figures, read at each scrape: none before it joined, its lag awaited", async () => {
    let figures: ClusterFigures | undefined;
    let lag: readonly PartitionLag[] = [];
    let lagReads = 0;
    const source: ClusterFiguresSource = {
      cluster: 'clicks-prod',
      figures: () => figures,
      lag: async () => {
        lagReads++;
        await new Promise((r) => setTimeout(r, 20));
        return lag;
      },
    };
    const registry = prometheusRegistry(new JobMetrics('member-job', new SystemClock(), { cluster: source }), () => 'running');
    // Not joined yet: no samples, and the brokers are not asked.
    expect(await registry.metrics()).not.toMatch(/^sluice_cluster_\w+\{/m);
    expect(lagReads).toBe(0);

    figures = {
      member: 'm1',
      tasks: [
        { topic: 'clicks', partition: 1, role: 'source' },
        { topic: 'clicks-prod-count-repartition', partition: 1, role: 'repartition' },
      ],
      rebalances: 2,
      lastRebalanceMs: 1500,
      restoring: true,
      restored: { restores: 3, tasks: 2, local: 1, entries: 40, bytes: 4096, ms: 250 },
      standbys: [0, 3],
    };
    lag = [{ topic: 'clicks', partition: 1, role: 'source', lag: 7 }];
    const text = await registry.metrics();
    const labels = { job: 'member-job', cluster: 'clicks-prod', member: 'm1' };
    expect(promSamples(text, 'sluice_cluster_tasks')).toEqual([
      { labels: { ...labels, topic: 'clicks', partition: '1', role: 'source' }, value: 1 },
      { labels: { ...labels, topic: 'clicks-prod-count-repartition', partition: '1', role: 'repartition' }, value: 1 },
    ]);
    expect(promValue(text, 'sluice_cluster_rebalances_total', labels)).toBe(2);
    expect(promValue(text, 'sluice_cluster_rebalance_last_seconds', labels)).toBe(1.5);
    expect(promValue(text, 'sluice_cluster_restoring', labels)).toBe(1);
    expect(promValue(text, 'sluice_cluster_restore_entries_total', labels)).toBe(40);
    expect(promValue(text, 'sluice_cluster_restore_bytes_total', labels)).toBe(4096);
    expect(promValue(text, 'sluice_cluster_restore_seconds_total', labels)).toBe(0.25);
    expect(promValue(text, 'sluice_cluster_restore_local_tasks_total', labels)).toBe(1);
    expect(promValue(text, 'sluice_cluster_standby_tasks', labels)).toBe(2);
    expect(promSamples(text, 'sluice_cluster_lag_records')).toEqual([{ labels: { ...labels, topic: 'clicks', partition: '1', role: 'source' }, value: 7 }]);
    expect(text).toContain('# TYPE sluice_cluster_rebalances_total counter');
    expect(text).toContain('# TYPE sluice_cluster_lag_records gauge');
  });
});
