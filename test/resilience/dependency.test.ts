import { describe, expect, it } from 'vitest';
import { JobMetrics } from '../../src/observe/job-metrics.js';
import { prometheusRegistry } from '../../src/observe/prometheus.js';
import { ManualClock, OperatorHarness } from '../../src/testing/index.js';
import { SluiceError, dependency, fixedDelay } from '../../src/index.js';
import { asyncConfig } from '../../src/api/async-step.js';
import { AsyncWaitOperator } from '../../src/runtime/operators/async/async-wait.js';

const failing = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof SluiceError ? e.code : (e as Error).message;
  }
}

describe('dependency: circuit breaker', () => {
  it('opens after N failures in a row, fails fast while open, half-opens after the delay, and a good probe closes it', async () => {
    const clock = new ManualClock(1_000);
    const d = dependency('breaker-cycle', { breaker: { consecutiveFailures: 3, halfOpenAfter: '10s' }, clock });
    for (let i = 0; i < 2; i++) expect(await codeOf(d.execute(failing))).toBe('down');
    expect(d.state).toBe('closed');
    expect(await codeOf(d.execute(failing))).toBe('down');
    expect(d.state).toBe('open');
    let called = 0;
    const counted = () => {
      called++;
      return ok();
    };
    expect(await codeOf(d.execute(counted))).toBe('CIRCUIT_OPEN');
    expect(called).toBe(0);
    expect(d.stats.rejectedOpen).toBe(1);
    clock.advance(9_999);
    expect(await codeOf(d.execute(counted))).toBe('CIRCUIT_OPEN');
    clock.advance(1);
    expect(d.state).toBe('half-open');
    expect(await d.execute(counted)).toBe('ok');
    expect(called).toBe(1);
    expect(d.state).toBe('closed');
    expect(d.stats.transitions).toEqual({ closed: 1, open: 1, 'half-open': 1 });
  });

  it('a failed probe opens it again for another delay', async () => {
    const clock = new ManualClock(0);
    const d = dependency('breaker-reopen', { breaker: { consecutiveFailures: 1, halfOpenAfter: 100 }, clock });
    await codeOf(d.execute(failing));
    clock.advance(100);
    expect(await codeOf(d.execute(failing))).toBe('down');
    expect(d.state).toBe('open');
    clock.advance(50);
    expect(await codeOf(d.execute(ok))).toBe('CIRCUIT_OPEN');
    clock.advance(50);
    expect(await d.execute(ok)).toBe('ok');
  });

  it('a call whose signal aborts (a timeout) counts as a failure even if it never settles', async () => {
    const clock = new ManualClock(0);
    const d = dependency('breaker-abort', { breaker: { consecutiveFailures: 1, halfOpenAfter: 100 }, clock });
    const controller = new AbortController();
    const never = d.execute(() => new Promise<never>(() => {}), controller.signal);
    controller.abort(new Error('timed out'));
    expect(await codeOf(never)).toBe('timed out');
    expect(d.state).toBe('open');
  });
});

describe('dependency: bulkhead', () => {
  it('runs at most maxConcurrent calls, queues maxQueued, refuses the rest with BULKHEAD_FULL', async () => {
    const d = dependency('pool', { breaker: false, bulkhead: { maxConcurrent: 2, maxQueued: 1 } });
    const gates: Array<() => void> = [];
    const slow = () => new Promise<string>((resolve) => gates.push(() => resolve('done')));
    const a = d.execute(slow);
    const b = d.execute(slow);
    const c = d.execute(slow);
    expect(await codeOf(d.execute(slow))).toBe('BULKHEAD_FULL');
    expect(d.bulkheadUse).toEqual({ active: 2, queued: 1 });
    expect(d.stats.rejectedFull).toBe(1);
    gates.shift()!();
    await a;
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    gates.shift()!();
    expect(await Promise.all([b, c])).toEqual(['done', 'done']);
    expect(d.bulkheadUse).toEqual({ active: 0, queued: 0 });
  });
});

describe('dependency in an async step', () => {
  it('with the breaker open, records take the fallback (counted as degraded), never silently', async () => {
    const d = dependency('users-api', { breaker: { consecutiveFailures: 2, halfOpenAfter: 1_000 } });
    let calls = 0;
    const operator = new AsyncWaitOperator<number, string>(
      asyncConfig<number, string>(
        'asyncMap',
        async (n: number) => {
          calls++;
          throw new Error(`down for ${n}`);
        },
        { uid: 'users', dependency: d, fallback: (n, e) => `fallback ${n} (${e.code})` },
      ),
    );
    const h = OperatorHarness.of(operator, { uid: 'users', onError: 'dead-letter' });
    h.processBatch([
      [1, 1],
      [2, 2],
    ]);
    await h.settle();
    expect(h.deadLetters.map((l) => l.record)).toEqual([1, 2]);
    h.processElement(3, 3);
    await h.settle();
    expect(calls).toBe(2);
    expect(h.values).toEqual(['fallback 3 (CIRCUIT_OPEN)']);
    expect([operator.degraded, operator.failures]).toEqual([1, 2]); // read by sluice_async_degraded_total and _failures_total
    // The breaker runs on the step's clock: after the delay a probe goes through.
    await h.advanceProcessingTime(1_000).processElement(4, 4).settle();
    expect(calls).toBe(3);
    expect(h.deadLetters.map((l) => l.record)).toEqual([1, 2, 4]);
  });

  it('a retry waits out the open breaker and succeeds through the probe', async () => {
    const d = dependency('flaky-api', { breaker: { consecutiveFailures: 1, halfOpenAfter: 500 } });
    let up = false;
    const h = OperatorHarness.asyncMap(
      async (n: number) => {
        if (!up) throw new Error('down');
        return n * 2;
      },
      { uid: 'flaky', dependency: d, retry: fixedDelay(300, { maxAttempts: 3 }) },
    );
    h.processElement(21, 1);
    await h.settle(); // attempt 1 fails: open until 500
    await h.advanceProcessingTime(300).settle(); // attempt 2 refused: CIRCUIT_OPEN
    expect(d.stats.rejectedOpen).toBe(1);
    up = true;
    await h.advanceProcessingTime(300).settle(); // attempt 3 at 600: the probe
    expect(h.values).toEqual([42]);
    expect(d.state).toBe('closed');
  });

  it('breaker state, transitions and refusals are Prometheus metrics', async () => {
    const clock = new ManualClock(0);
    const d = dependency('metered', { breaker: { consecutiveFailures: 1, halfOpenAfter: 100 }, bulkhead: { maxConcurrent: 3 }, clock });
    await codeOf(d.execute(failing));
    await codeOf(d.execute(ok));
    const text = await prometheusRegistry(new JobMetrics('deps', clock), () => 'running').metrics();
    expect(text).toContain('sluice_breaker_state{job="deps",dependency="metered",state="open"} 1');
    expect(text).toContain('sluice_breaker_state{job="deps",dependency="metered",state="closed"} 0');
    expect(text).toContain('sluice_breaker_transitions_total{job="deps",dependency="metered",to="open"} 1');
    expect(text).toContain('sluice_breaker_rejected_total{job="deps",dependency="metered"} 1');
    expect(text).toContain('sluice_bulkhead_calls{job="deps",dependency="metered",state="active"} 0');
  });
});
