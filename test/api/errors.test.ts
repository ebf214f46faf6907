import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import type { DeadLetter } from '../../src/runtime/dead-letter-queue.js';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { generator } from '../../src/connectors/generator/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { thrown } from '../helpers.js';

function newJob(opts: ConstructorParameters<typeof Job>[0] = {}): Job {
  return new Job({ clock: new ManualClock(0), ...opts });
}

/** Runs the job and returns the error it failed with. */
async function failure(job: Job): Promise<SluiceError> {
  const e = await job.run().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SluiceError);
  return e as SluiceError;
}

function codeOf(fn: () => unknown): string {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(SluiceError);
  return (e as SluiceError).code;
}

describe('a user function that throws', () => {
  it('fails the job with USER_FUNCTION_FAILED naming the step and showing the record', async () => {
    const job = newJob();
    job
      .source(fromCollection([{ id: 1 }, { id: 2 }, { id: 3 }]), { uid: 'orders' })
      .map(
        (o) => {
          if (o.id === 2) throw new Error('no price');
          return o;
        },
        { uid: 'price' },
      )
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.step).toBe('price');
    expect(e.message).toContain("step 'price'");
    expect(e.message).toContain('no price');
    expect(e.message).toContain('{"id":2}');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('truncates a long record in the message', async () => {
    const job = newJob();
    const long = { text: 'x'.repeat(5000) };
    job
      .source(fromCollection([long]), { uid: 'docs' })
      .map(() => {
        throw new Error('boom');
      }, { uid: 'parse' })
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.message).toContain("step 'parse'");
    expect(e.message).toContain('{"text":"xxxx');
    expect(e.message).toMatch(/… \(5011 chars\)/);
    expect(e.message.length).toBeLessThan(1000);
  });

  it.each([
    ['filter', (j: Job) => j.source(fromCollection([1, 2]), { uid: 'n' }).filter((n) => { if (n === 2) throw new Error('bad'); return true; }, { uid: 'step-x' })],
    ['flatMap', (j: Job) => j.source(fromCollection([1, 2]), { uid: 'n' }).flatMap((n) => { if (n === 2) throw new Error('bad'); return [n]; }, { uid: 'step-x' })],
    ['process', (j: Job) => j.source(fromCollection([1, 2]), { uid: 'n' }).process<number>({ processElement: (n, _c, o) => { if (n === 2) throw new Error('bad'); o.collect(n); } }, { uid: 'step-x' })],
    ['keyed process', (j: Job) => j.source(fromCollection([1, 2]), { uid: 'n' }).keyBy((n) => n).process<number>({ processElement: (n, _c, o) => { if (n === 2) throw new Error('bad'); o.collect(n); } }, { uid: 'step-x' })],
    ['reduce', (j: Job) => j.source(fromCollection([1, 1]), { uid: 'n' }).keyBy((n) => n).reduce(() => { throw new Error('bad'); }, { uid: 'step-x' })],
  ] as const)('%s: fails the job naming the step', async (_name, build) => {
    const job = newJob();
    (build(job) as { sinkTo(s: unknown): void }).sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.step).toBe('step-x');
    expect(e.message).toContain("step 'step-x'");
  });

  it('a throwing onTimer fails the job naming the step', async () => {
    const job = newJob();
    job
      .source(fromCollection([5]), { uid: 'n', watermarks: WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n) })
      .keyBy((n) => n)
      .process(
        {
          processElement: (n, ctx) => ctx.timerService.registerEventTimeTimer(n),
          onTimer: () => {
            throw new Error('timer broke');
          },
        },
        { uid: 'timers' },
      )
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.message).toContain("step 'timers'");
    expect(e.message).toContain('timer broke');
  });
});

describe('failures of sources, sinks and other tasks', () => {
  it('a source that throws fails the job with SOURCE_FAILED naming the step', async () => {
    const job = newJob();
    job
      .source({ kind: 'flaky', bounded: true, createReader: () => ({ poll: async () => Promise.reject(new Error('disk gone')), close: async () => {} }) }, { uid: 'flaky-in' })
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('SOURCE_FAILED');
    expect(e.step).toBe('flaky-in');
    expect(e.message).toContain('disk gone');
  });

  it('a sink whose write rejects fails the job with SINK_FAILED naming the step', async () => {
    const job = newJob();
    job
      .source(fromCollection([1, 2]), { uid: 'n' })
      .sinkTo({ kind: 'locked', createWriter: () => ({ write: async () => Promise.reject(new Error('EACCES')), close: async () => {} }) }, { uid: 'out' });
    const e = await failure(job);
    expect(e.code).toBe('SINK_FAILED');
    expect(e.step).toBe('out');
    expect(e.message).toContain('EACCES');
  });

  it('a failure behind a full channel stops an unbounded source (the job fails, it does not hang)', async () => {
    const job = new Job({ batchSize: 4, channelCapacity: 1 });
    job
      .source(generator({ make: (i) => i }), { uid: 'endless' })
      .union(job.source(fromCollection<number>([]), { uid: 'nothing' }))
      .map((n) => {
        if (n === 1000) throw new Error('stop here');
        return n;
      }, { uid: 'picky' })
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.step).toBe('picky');
  });
});

describe('dead letters', () => {
  // The dead-letter consumer must never wait for room in the queue it drains (it used to,
  // and then it and the failing task waited for each other).
  it.each([
    ['chained', false],
    ['behind a channel', true],
  ])('many dead letters pass through a small dead-letter queue (consumer %s)', async (_name, channel) => {
    const job = newJob({ batchSize: 2, channelCapacity: 1, onError: 'dead-letter' });
    const out = collectSink<number>();
    const dead = collectSink<DeadLetter>();
    job
      .source(fromCollection(Array.from({ length: 500 }, (_, i) => i)), { uid: 'n' })
      .map((n) => {
        if (n % 3 !== 0) throw new Error('not a multiple of 3');
        return n;
      }, { uid: 'threes' })
      .sinkTo(out);
    const letters = job.deadLetters();
    (channel ? letters.union(job.source(fromCollection<DeadLetter>([]), { uid: 'no-letters' })) : letters).map((d) => d).sinkTo(dead);
    await job.run();
    expect(out.values).toHaveLength(167);
    expect(dead.values).toHaveLength(333);
    expect(dead.values.every((d) => (d.record as number) % 3 !== 0)).toBe(true);
  });

  it('a timestamp assigner that throws dead-letters its record; the others keep their timestamps', async () => {
    const job = newJob({ onError: 'dead-letter' });
    const out = collectSink<number>();
    const dead = collectSink<DeadLetter>();
    const strategy = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => {
      if (n === 2) throw new Error('no time');
      return n * 10;
    });
    job.source(fromCollection([1, 2, 3]), { uid: 'n', watermarks: strategy }).sinkTo(out);
    job.deadLetters().sinkTo(dead);
    await job.run();
    expect(out.values).toEqual([1, 3]);
    expect(out.timestamps).toEqual([10, 30]);
    expect(dead.values.map((d) => [d.step, d.record])).toEqual([['watermarks-1', 2]]);
  });

  it("with the job's onError: 'dead-letter', a failed record goes to job.deadLetters() and the others flow on", async () => {
    const job = newJob({ onError: 'dead-letter' });
    const out = collectSink<number>();
    const dead = collectSink<DeadLetter>();
    job
      .source(fromCollection([1, 2, 3, 4], { timestamps: (n) => n * 1000 }), { uid: 'nums' })
      .map(
        (n) => {
          if (n % 2 === 0) throw new Error(`even ${n}`);
          return n * 10;
        },
        { uid: 'odd-only' },
      )
      .sinkTo(out);
    job.deadLetters().sinkTo(dead);
    await expect(job.run()).resolves.toEqual({ status: 'finished' });
    expect(out.values).toEqual([10, 30]);
    expect(dead.values).toHaveLength(2);
    expect(dead.values.map((d) => d.record)).toEqual([2, 4]);
    for (const d of dead.values) {
      expect(d.step).toBe('odd-only');
      expect(d.error.code).toBe('USER_FUNCTION_FAILED');
      expect(d.error.message).toContain("step 'odd-only'");
    }
    expect(dead.values.map((d) => d.timestamp)).toEqual([2000, 4000]);
  });

  it('a per-step policy dead-letters that step only; others still fail the job', async () => {
    const ok = newJob();
    const out = collectSink<number>();
    const dead = collectSink<DeadLetter>();
    ok.source(fromCollection([1, 2, 3]), { uid: 'nums' })
      .process<number>(
        {
          processElement: (n, _ctx, o) => {
            if (n === 2) throw new Error('two');
            o.collect(n);
          },
        },
        { uid: 'p', onError: 'dead-letter' },
      )
      .sinkTo(out);
    ok.deadLetters().sinkTo(dead);
    await ok.run();
    expect(out.values).toEqual([1, 3]);
    expect(dead.values.map((d) => [d.step, d.record])).toEqual([['p', 2]]);

    const failing = newJob();
    failing
      .source(fromCollection([1, 2, 3]), { uid: 'nums' })
      .map((n) => n, { uid: 'lenient', onError: 'dead-letter' })
      .map((n) => {
        if (n === 3) throw new Error('three');
        return n;
      }, { uid: 'strict' })
      .sinkTo(collectSink());
    failing.deadLetters().sinkTo(collectSink());
    const e = await failure(failing);
    expect(e.step).toBe('strict');
  });

  it('dead-letters an invalid key under the dead-letter policy', async () => {
    const job = newJob({ onError: 'dead-letter' });
    const out = collectSink<{ k?: string }>();
    const dead = collectSink<DeadLetter>();
    job
      .source(fromCollection<{ k?: string }>([{ k: 'a' }, {}, { k: 'b' }]), { uid: 'recs' })
      .keyBy((r) => r.k as string)
      .reduce((a) => a, { uid: 'by-k' })
      .sinkTo(out);
    job.deadLetters().sinkTo(dead);
    await job.run();
    expect(out.values).toEqual([{ k: 'a' }, { k: 'b' }]);
    expect(dead.values.map((d) => d.error.code)).toEqual(['KEY_INVALID']);
  });

  it('is refused when nothing consumes job.deadLetters() (job option or step option)', () => {
    const a = newJob({ onError: 'dead-letter' });
    a.source(fromCollection([1]), { uid: 'n' }).sinkTo(collectSink());
    expect(codeOf(() => a.explain())).toBe('INVALID_JOB');
    expect(codeOf(() => a.start())).toBe('INVALID_JOB');

    const b = newJob();
    b.source(fromCollection([1]), { uid: 'n' }).map((n) => n, { onError: 'dead-letter' }).sinkTo(collectSink());
    b.deadLetters(); // asked for, but consumed by nothing
    const e = thrown(() => b.start()) as SluiceError;
    expect(e.code).toBe('INVALID_JOB');
    expect(e.message).toContain('deadLetters');
  });
});

describe('errors at build time', () => {
  it('a key selector returning undefined fails with KEY_INVALID naming the step', async () => {
    const job = newJob();
    job
      .source(fromCollection([{ user: 'a' }, { name: 'b' }] as Array<{ user?: string }>), { uid: 'recs' })
      .keyBy((r) => r.user as string)
      .process<string>({ processElement: (_r, ctx, o) => o.collect(ctx.key) }, { uid: 'per-user' })
      .sinkTo(collectSink());
    const e = await failure(job);
    expect(e.code).toBe('KEY_INVALID');
    expect(e.step).toBe('per-user');
    expect(e.message).toContain("step 'per-user'");
    expect(e.message).toContain('undefined');
    expect(e.message).toContain('{"name":"b"}');
  });

  it.each([
    ['null', null],
    ['NaN', Number.NaN],
    ['an object', {}],
  ])('a key selector returning %s fails with KEY_INVALID', async (_name, key) => {
    const job = newJob();
    job
      .source(fromCollection([1]), { uid: 'n' })
      .keyBy(() => key as unknown as string)
      .reduce((a) => a, { uid: 'r' })
      .sinkTo(collectSink());
    expect((await failure(job)).code).toBe('KEY_INVALID');
  });

  it('a stateful step without uid is refused at once with MISSING_UID', () => {
    const job = newJob();
    const keyed = job.source(fromCollection([1]), { uid: 'n' }).keyBy((n) => n);
    expect(codeOf(() => keyed.reduce((a, b) => a + b, {} as any))).toBe('MISSING_UID');
    expect(codeOf(() => keyed.reduce((a, b) => a + b, undefined as any))).toBe('MISSING_UID');
    expect(codeOf(() => keyed.process({ processElement: () => {} }, { uid: '  ' }))).toBe('MISSING_UID');
    expect(codeOf(() => job.source(fromCollection([1]), {} as any))).toBe('MISSING_UID');
    const e = thrown(() => keyed.aggregate({ createAccumulator: () => 0, add: (v, a) => a + v, getResult: (a) => a }, {} as any)) as SluiceError;
    expect(e.code).toBe('MISSING_UID');
    expect(e.message).toContain('aggregate');
  });

  it('a duplicate uid is refused with DUPLICATE_UID', () => {
    const job = newJob();
    const s = job.source(fromCollection([1]), { uid: 'nums' });
    s.map((n) => n, { uid: 'twice' });
    const e = thrown(() => s.filter(() => true, { uid: 'twice' })) as SluiceError;
    expect(e.code).toBe('DUPLICATE_UID');
    expect(e.message).toContain("'twice'");
    expect(codeOf(() => job.source(fromCollection([2]), { uid: 'nums' }))).toBe('DUPLICATE_UID');
    expect(codeOf(() => s.keyBy((n) => n).reduce((a) => a, { uid: 'nums' }))).toBe('DUPLICATE_UID');
  });

  it('generated uids do not collide with given ones', () => {
    const job = newJob();
    const s = job.source(fromCollection([1]), { uid: 'nums' });
    s.map((n) => n, { uid: 'map-1' });
    s.map((n) => n).sinkTo(collectSink());
    expect(job.explain()).toMatch(/map-2\s+map/);
  });

  it('negative or malformed durations are refused at once with INVALID_DURATION', () => {
    expect(codeOf(() => new Job({ flushInterval: -1 }))).toBe('INVALID_DURATION');
    expect(codeOf(() => new Job({ flushInterval: '-5ms' as any }))).toBe('INVALID_DURATION');
    expect(codeOf(() => WatermarkStrategy.forBoundedOutOfOrderness(-10))).toBe('INVALID_DURATION');
    expect(codeOf(() => WatermarkStrategy.forBoundedOutOfOrderness('soon' as any))).toBe('INVALID_DURATION');
    expect(codeOf(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness('-1s' as any))).toBe('INVALID_DURATION');
    expect(codeOf(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(0))).toBe('INVALID_DURATION');
  });

  it('bad job options are refused with INVALID_ARGUMENT', () => {
    expect(codeOf(() => new Job({ batchSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new Job({ channelCapacity: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new Job({ onError: 'ignore' as any }))).toBe('INVALID_ARGUMENT');
  });

  it('a job without a sink, or without a source, is refused with INVALID_JOB', () => {
    const noSink = newJob({ name: 'lonely' });
    noSink.source(fromCollection([1]), { uid: 'n' }).map((n) => n);
    const e = thrown(() => noSink.start()) as SluiceError;
    expect(e.code).toBe('INVALID_JOB');
    expect(e.message).toContain("'lonely'");
    expect(e.message).toContain('no sink');
    expect(codeOf(() => noSink.explain())).toBe('INVALID_JOB');

    expect(codeOf(() => newJob().start())).toBe('INVALID_JOB');
  });

  it('streams of two jobs cannot be mixed', () => {
    const a = newJob();
    const b = newJob();
    const sa = a.source(fromCollection([1]), { uid: 'a' });
    const sb = b.source(fromCollection([2]), { uid: 'b' });
    expect(codeOf(() => sa.union(sb))).toBe('INVALID_JOB');
    expect(codeOf(() => sa.connect(sb))).toBe('INVALID_JOB');
  });

  it('wrong arguments to steps are refused with INVALID_ARGUMENT', () => {
    const s = newJob().source(fromCollection([1]), { uid: 'n' });
    expect(codeOf(() => s.map(42 as any))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s.process({} as any))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s.keyBy({} as any))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s.sinkTo({} as any))).toBe('INVALID_ARGUMENT');
  });
});
