import { describe, expect, it } from 'vitest';
import { Job, SluiceError, collectSink, fromCollection } from '../../src/index.js';
import { STUCK_EXIT_CODE } from '../../src/runtime/watchdog/watchdog-thread.js';
import { build, type FailureFixture } from '../fixtures/jobs/failure-jobs.js';
import { startSluice, until } from '../cli/processes.js';

const FIXTURE = new URL('../fixtures/jobs/failure-jobs.ts', import.meta.url).pathname;

/** The error a job's `done` rejects with. */
async function failureOf(done: Promise<unknown>): Promise<SluiceError> {
  try {
    await done;
  } catch (e) {
    return e as SluiceError;
  }
  throw new Error('the job did not fail');
}

describe('the watchdog: a step that does not return', () => {
  it('in a worker thread (parallelism 2): /healthz fails, the log names the step, the worker is stopped and the job restarts with STEP_STUCK', async () => {
    // Record 101 is made by reader 1, in worker thread 1, where the chained map loops for ever.
    const o: FailureFixture = { kind: 'stuck', parallelism: 2, events: 400, rate: 2000, stuckAt: 101, stuckAfterMs: 500, restarts: 1, restartDelayMs: 1000, server: true };
    const { job } = build(o);
    const running = job.start({ moduleArgs: [JSON.stringify(o)] });
    const url = (await running.server)!.url;
    const get = async (path: string) => {
      const res = await fetch(url + path);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await get('/healthz')).status).toBe(200);
    // While the job waits to restart after the stuck step, liveness and readiness fail.
    const health = await until(
      async () => {
        const h = await get('/healthz');
        return h.status === 503 ? h : undefined;
      },
      30_000,
      () => 'no failing /healthz',
    );
    expect(health.body).toMatchObject({ status: 'stuck', stuck: [{ step: 'spin', kind: 'map', task: 'events#1', thread: 'worker thread 1', call: expect.stringMatching(/^a batch of \d+ records?$/) }] });
    expect((await get('/readyz')).status).toBe(503);

    // The restarted attempt meets the same record: the restart policy gives up.
    const error = await failureOf(running.done);
    expect(error.code).toBe('JOB_RESTARTS_EXHAUSTED');
    const cause = error.cause as SluiceError;
    expect(cause.code).toBe('STEP_STUCK');
    expect(cause.step).toBe('spin');
    expect(cause.message).toMatch(/step 'spin' \(map\) of task 'events#1' has not returned for \d+ ms, handling a batch of \d+ records?(: \{.*\}| \(the first: .*\)), in worker thread 1/);
    expect(running.restarts).toBe(1);
    expect(running.monitor.exceptions.map((e) => e.code)).toEqual(['STEP_STUCK', 'JOB_RESTARTS_EXHAUSTED']);
    const lines = running.monitor.log.recent(500).filter((l) => l.event === 'step_stuck');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 50, step: 'spin', task: 'events#1', thread: 'worker thread 1', code: 'STEP_STUCK' });
    // The log names the record: the first of the batch the map was stuck in; the restarted
    // attempt hands that task one record at a time, so the second line names the very one.
    for (const line of lines) expect(line.record).toMatch(/^\{"i":\d+\}$/);
    expect(JSON.parse(lines[0]!.record as string).i).toBeLessThanOrEqual(101);
    expect(lines[1]).toMatchObject({ call: 'a batch of 1 record', record: '{"i":101}' });
    expect(lines[1]!.msg).toMatch(/handling a batch of 1 record: \{"i":101\}, in worker thread 1/);
    expect(cause.message).toContain('handling a batch of 1 record: {"i":101}');
  }, 60_000);

  it('on the main thread with onStuck: exit, the watchdog thread writes the log line and exits the process with its own code', async () => {
    const o: FailureFixture = { kind: 'stuck', parallelism: 1, events: 400, rate: 2000, stuckAt: 50, stuckAfterMs: 500, onStuck: 'exit' };
    const p = startSluice(['run', FIXTURE, '--no-server', '--no-progress', '--', JSON.stringify(o)]);
    expect(await p.exited).toBe(STUCK_EXIT_CODE);
    const line = p
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"step_stuck"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ event: 'step_stuck', code: 'STEP_STUCK', step: 'spin', task: 'events', thread: 'main thread', record: expect.stringMatching(/^\{"i":\d+\}$/) });
    expect(JSON.parse(line[0]!.record as string).i).toBeLessThanOrEqual(50);
    expect(line[0]!.msg).toMatch(/step 'spin' \(map\) .*handling a batch of \d+ records?(: \{"i":50\}| \(the first: \{"i":\d+\};.*\)), on the main thread: the process exits with code 75/);
  }, 60_000);

  it('on the main thread with the default onStuck, the log line still comes while the thread is blocked', async () => {
    const o: FailureFixture = { kind: 'stuck', parallelism: 1, events: 400, rate: 2000, stuckAt: 50, stuckAfterMs: 500 };
    const p = startSluice(['run', FIXTURE, '--no-server', '--no-progress', '--', JSON.stringify(o)]);
    try {
      await p.waitFor(/"event":"step_stuck".*"step":"spin".*"thread":"main thread"/);
      expect(p.stderr()).toContain('JavaScript cannot interrupt it there');
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }, 60_000);

  it('on the main thread, a call that returns after the limit fails the attempt with STEP_STUCK then', async () => {
    const o: FailureFixture = { kind: 'stuck', parallelism: 1, events: 200, rate: 2000, stuckAt: 50, spinMs: 1500, stuckAfterMs: 300 };
    const { job } = build(o);
    const running = job.start();
    const error = await failureOf(running.done);
    expect(error.code).toBe('STEP_STUCK');
    expect(error.message).toMatch(/step 'spin' \(map\) of task 'events' has not returned for \d+ ms, handling a batch of \d+ records?(: \{"i":50\}| \(the first: \{"i":\d+\}; .*\)), on the main thread/);
    expect(running.stuck).toMatchObject([{ step: 'spin', thread: 'main thread' }]);
  }, 30_000);

  it('the watchdog thread does not keep a process alive: a finished `sluice run` exits by itself', async () => {
    const o: FailureFixture = { kind: 'stuck', parallelism: 1, events: 100, rate: 2000 };
    const p = startSluice(['run', FIXTURE, '--no-server', '--no-progress', '--', JSON.stringify(o)]);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/job 'failure-stuck' finished/);
  }, 60_000);

  it('stuckAfter and onStuck are checked; stuckAfter: false turns the watchdog off', async () => {
    expect(() => new Job({ onStuck: 'kill' as 'exit' })).toThrow(/onStuck must be 'fail' or 'exit'/);
    expect(() => new Job({ stuckAfter: 0 })).toThrow(/stuckAfter must be more than 0/);
    const job = new Job({ stuckAfter: false });
    const out = collectSink<number>();
    job.source(fromCollection([1, 2, 3]), { uid: 'n' }).sinkTo(out);
    await job.run();
    expect(out.values).toEqual([1, 2, 3]);
  });
});

describe("the watchdog's record preview", () => {
  it('is bounded, whatever the record: it walks only as far as the text goes, and shows what JSON cannot', async () => {
    const { previewRecord } = await import('../../src/runtime/watchdog/preview.js');
    expect(previewRecord({ i: 101 })).toBe('{"i":101}');
    const huge = { a: 'x'.repeat(5_000_000), b: Array.from({ length: 100_000 }, (_, i) => i) };
    const shown = previewRecord(huge, 80);
    expect(shown).toMatch(/^\{"a":"x+…$/);
    expect(shown.length).toBe(81);
    const odd: Record<string, unknown> = { n: 1n, m: new Map([[1, new Set(['s'])]]), d: new Date(0), f: Float64Array.of(1, 2), 'a key': undefined };
    odd.self = odd;
    expect(previewRecord(odd)).toBe('{"n":1n,"m":Map{1=>Set["s"]},"d":"1970-01-01T00:00:00.000Z","f":Float64Array(2),"a key":undefined,"self":[circular]}');
    expect(previewRecord({ get boom() { throw new Error('no'); } })).toBe('[a value that cannot be shown]');
  });
});
