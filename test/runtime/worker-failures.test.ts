import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/index.js';
import { build, holdsFunction, type FailureFixture } from '../fixtures/jobs/failure-jobs.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('failures in a parallel run go through the job’s failure policy', () => {
  // A slow source (400 records/s over two readers) sends batches of a few records: they
  // never fill the batch (64), so the flush timer sends them, outside the task's loop.
  const base = { kind: 'untransferable', parallelism: 2, events: 200, rate: 400, every: 10 } as const;

  it("records that cannot cross threads, flushed by the timer, are dead letters under onError: 'dead-letter'; the rest arrive exactly", async () => {
    const o: FailureFixture = { ...base, onError: 'dead-letter' };
    const { job, out, letters } = build(o);
    const running = job.start({ moduleArgs: [JSON.stringify(o)] });
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    const refused = range(o.events).filter((i) => holdsFunction(i, o.every!));
    // Both ways: records of the main thread's reader refused there, the worker's in the worker.
    expect(refused.some((i) => i % 2 === 0) && refused.some((i) => i % 2 === 1)).toBe(true);
    const got = letters.values as Array<{ step: string; code: string; i: number }>;
    expect(got.map((l) => l.i).sort((a, b) => a - b)).toEqual(refused);
    expect(new Set(got.map((l) => `${l.step} ${l.code}`))).toEqual(new Set(['events RECORD_NOT_TRANSFERABLE']));
    expect((out.values as number[]).sort((a, b) => a - b)).toEqual(range(o.events).filter((i) => !holdsFunction(i, o.every!)));
    expect(running.restarts).toBe(0);
    const events = running.monitor.metrics.snapshot().steps.filter((s) => s.uid === 'events');
    expect(events.reduce((n, s) => n + s.deadLettered, 0)).toBe(refused.length);
  }, 60_000);

  it('under the default policy the job fails with RECORD_NOT_TRANSFERABLE through the restart policy, never an uncaught exception', async () => {
    const o: FailureFixture = { ...base, restarts: 2 };
    const { job } = build(o);
    const restarted: unknown[] = [];
    const running = job.start({ moduleArgs: [JSON.stringify(o)], onRestart: (e) => restarted.push(e) });
    const error = await running.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('JOB_RESTARTS_EXHAUSTED');
    expect(running.restarts).toBe(2);
    expect(running.monitor.metrics.restarts).toBe(2);
    for (const e of [...restarted, (error as Error).cause]) {
      expect((e as SluiceError).code).toBe('RECORD_NOT_TRANSFERABLE');
      expect((e as SluiceError).step).toBe('events');
      expect((e as Error).message).toMatch(/step 'events' \(source\): 'events' [01] -> 'index' [01]: a record cannot cross to another thread: it holds a function at \.fn/);
    }
    expect(running.monitor.status).toBe('failed');
  }, 60_000);
});
