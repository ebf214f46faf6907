import { describe, expect, it } from 'vitest';
import { Job, OutputTag, collectSink, dependency, fromCollection, generator } from '../../src/index.js';
import { promValue } from '../fixtures/prom.js';

/** A job whose dependency is down (its breaker opens) and whose source sheds load, behind the REST server. */
describe('breakers and load shedding in the REST job view, the metrics snapshot and the dashboard', () => {
  it('shows each dependency’s breaker state and transitions, and a source’s shed records', async () => {
    const down = dependency('view-down', { breaker: { consecutiveFailures: 2, halfOpenAfter: '1h' } });
    const up = dependency('view-up', { bulkhead: { maxConcurrent: 4 } });
    const shedTag = new OutputTag<number>('shed');
    const out = collectSink<number>();
    const job = new Job({ name: 'view', batchSize: 10, server: { port: 0 } });
    const src = job.source(fromCollection(Array.from({ length: 100 }, (_, i) => i)), {
      uid: 'numbers',
      shed: { when: { backlog: 50 }, policy: { predicate: (i) => i % 2 === 1 }, sideOutput: shedTag },
    });
    src
      .asyncMap((i: number) => Promise.reject(new Error(`service down for ${i}`)), { uid: 'call', dependency: down, fallback: () => -1, onError: 'dead-letter', capacity: 1 })
      .asyncMap((i: number) => Promise.resolve(i), { uid: 'ok', dependency: up, capacity: 4 })
      .sinkTo(out, { uid: 'out' });
    src.sideOutput(shedTag).sinkTo(collectSink(), { uid: 'shed-out' });
    job.deadLetters().sinkTo(collectSink(), { uid: 'letters' });
    // Keeps the job (and its server) up after the numbers have ended.
    job.source(generator({ make: (i) => i, ratePerSecond: 10 }), { uid: 'ticks' }).sinkTo(collectSink(), { uid: 'ticks-out' });
    // 80 records are kept: the first two fail (dead letters), then the breaker is open and the fallback answers.
    const run = job.start();
    const { url } = (await run.server)!;
    try {
      await check(url, out);
    } finally {
      run.cancel();
      await run.done.catch(() => {});
    }
  });
});

interface Snapshot {
  snapshot: { dependencies: Array<{ name: string; state: string }>; steps: Array<{ uid: string; recordsIn: number; shed: number | null; overloaded: boolean | null }> };
}

async function check(url: string, out: { count: number }): Promise<void> {
  {
    // The snapshot is sampled once a second: wait for one taken after the numbers ended.
    const recordsIn = async (uid: string) => ((await (await fetch(`${url}/jobs/view/metrics`)).json()) as Snapshot).snapshot.steps.find((s) => s.uid === uid)?.recordsIn;
    await expect.poll(() => recordsIn('out'), { timeout: 20_000 }).toBe(78);

    const view = (await (await fetch(`${url}/jobs/view`)).json()) as { dependencies: Array<Record<string, unknown>> };
    const d = view.dependencies.find((x) => x.name === 'view-down')!;
    expect(d).toMatchObject({ state: 'open', transitions: { open: 1, closed: 0, 'half-open': 0 }, rejectedFull: 0 });
    expect(d.rejectedOpen).toBeGreaterThan(0);
    expect(typeof d.lastTransitionAt).toBe('number');
    expect(view.dependencies.find((x) => x.name === 'view-up')).toMatchObject({ state: 'closed', lastTransitionAt: null, bulkhead: { active: 0, queued: 0 } });

    const metrics = (await (await fetch(`${url}/jobs/view/metrics`)).json()) as Snapshot;
    expect(metrics.snapshot.dependencies.find((x) => x.name === 'view-down')?.state).toBe('open');
    const source = metrics.snapshot.steps.find((s) => s.uid === 'numbers')!;
    // Batches of 10; overloaded while more than 50 are left after a read: the first four batches, their odd numbers shed.
    expect(source).toMatchObject({ shed: 20, overloaded: false });
    expect(metrics.snapshot.steps.find((s) => s.uid === 'call')).toMatchObject({ shed: null, overloaded: null });

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(promValue(text, 'sluice_breaker_state', { job: 'view', dependency: 'view-down', state: 'open' })).toBe(1);
    expect(promValue(text, 'sluice_source_shed_total', { job: 'view', step: 'numbers' })).toBe(20);
    expect(promValue(text, 'sluice_source_overloaded', { job: 'view', step: 'numbers' })).toBe(0);

    const html = await (await fetch(`${url}/`)).text();
    expect(html).toContain('<table id="dependencies">');
    expect(html).toContain('renderDependencies(ev.snapshot.dependencies)');
    expect(out.count).toBe(78);
  }
}
