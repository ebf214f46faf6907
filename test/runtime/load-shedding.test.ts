import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Job, ManualClock, OutputTag, SluiceError, collectSink, fromCollection, type ShedPolicy } from '../../src/index.js';
import { promValue } from '../fixtures/prom.js';
import { checkProperty, propertyRuns } from '../property.js';

interface Rec {
  id: number;
  priority: number;
}

type PolicyCase = { kind: 'sample'; keep: number } | { kind: 'predicate'; mod: number } | { kind: 'dropLowest'; share: number };

function policyOf(c: PolicyCase): ShedPolicy<Rec> {
  if (c.kind === 'sample') return { sample: c.keep };
  if (c.kind === 'predicate') return { predicate: (r) => r.id % c.mod === 0 };
  return { dropLowest: (r) => r.priority, share: c.share };
}

/**
 * The batch reference: the source hands out batches of `batchSize`; a batch read while
 * more than `threshold` records are left is shed by the policy, stated as plainly as it
 * can be.
 */
function reference(records: readonly Rec[], batchSize: number, threshold: number, c: PolicyCase): { kept: Rec[]; shed: Rec[] } {
  const kept: Rec[] = [];
  const shed: Rec[] = [];
  let seen = 0;
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    const left = records.length - start - batch.length;
    if (left <= threshold) {
      kept.push(...batch);
      continue;
    }
    let drop: Set<Rec>;
    if (c.kind === 'sample') {
      // Keep a record whenever the kept count so far, seen × keep, reaches a new whole number.
      drop = new Set(batch.filter(() => Math.floor(++seen * c.keep) === Math.floor((seen - 1) * c.keep)));
    } else if (c.kind === 'predicate') drop = new Set(batch.filter((r) => r.id % c.mod === 0));
    else {
      const byPriority = batch.map((r, i) => ({ r, i })).sort((a, b) => a.r.priority - b.r.priority || b.i - a.i);
      drop = new Set(byPriority.slice(0, Math.floor(batch.length * c.share)).map((x) => x.r));
    }
    for (const r of batch) (drop.has(r) ? shed : kept).push(r);
  }
  return { kept, shed };
}

const policyCase: fc.Arbitrary<PolicyCase> = fc.oneof(
  fc.record({ kind: fc.constant('sample' as const), keep: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('predicate' as const), mod: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('dropLowest' as const), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

describe('load shedding of a source', () => {
  it('sheds what a batch reference sheds while the backlog is above the threshold; the shed count equals the records missing from the output; the side output gets them', async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 300 }),
        policyCase,
        async (priorities, batchSize, threshold, c) => {
          const records = priorities.map((priority, id) => ({ id, priority }));
          const shedTag = new OutputTag<Rec>('shed');
          const out = collectSink<Rec>();
          const shedOut = collectSink<Rec>();
          const job = new Job({ name: 'shedding', batchSize });
          const src = job.source(fromCollection(records), { uid: 'in', shed: { when: { backlog: threshold }, policy: policyOf(c), sideOutput: shedTag } });
          src.sinkTo(out, { uid: 'out' });
          src.sideOutput(shedTag).sinkTo(shedOut, { uid: 'shed-out' });
          const run = job.start();
          await run.done;
          const expected = reference(records, batchSize, threshold, c);
          expect(out.values).toEqual(expected.kept);
          expect(shedOut.values).toEqual(expected.shed);
          const text = await run.monitor.registry.metrics();
          expect(promValue(text, 'sluice_source_shed_total', { job: 'shedding', step: 'in' })).toBe(records.length - out.values.length);
        },
      ),
      propertyRuns(40),
    );
  }, 120_000);

  it('sheds under backpressure from a slow sink (latency on the job clock), and not once the sink keeps up', async () => {
    // The sink takes 50 ms (of the manual clock) per batch for records 100 … 199: a slow
    // dependency. The source sees the pipeline take 50 ms over its 20 ms threshold on those
    // batches, and sheds the batch it reads after each of them.
    const clock = new ManualClock(0);
    const records = Array.from({ length: 400 }, (_, id) => ({ id, priority: 0 }));
    const shedTag = new OutputTag<Rec>('shed');
    const written: Rec[] = [];
    const shedOut = collectSink<Rec>();
    const job = new Job({ name: 'slow-sink', batchSize: 10, clock });
    const src = job.source(fromCollection(records), { uid: 'in', shed: { when: { latency: '20ms' }, policy: { predicate: () => true }, sideOutput: shedTag } });
    src.sinkTo(
      {
        kind: 'slow',
        createWriter: () => ({
          write: async (values: Rec[]) => {
            written.push(...values);
            if (values.some((r) => r.id >= 100 && r.id < 200)) clock.advance(50);
          },
          close: async () => {},
        }),
      },
      { uid: 'out' },
    );
    src.sideOutput(shedTag).sinkTo(shedOut, { uid: 'shed-out' });
    const run = job.start();
    await run.done;
    const text = await run.monitor.registry.metrics();
    const shed = promValue(text, 'sluice_source_shed_total', { job: 'slow-sink', step: 'in' })!;
    expect(shed).toBeGreaterThan(0);
    expect(shed).toBe(records.length - written.length);
    expect(shedOut.values.length).toBe(shed);
    expect([...written, ...shedOut.values].map((r) => r.id).sort((a, b) => a - b)).toEqual(records.map((r) => r.id));
    // Nothing before the slow stretch is shed, nor long after it.
    expect(shedOut.values.every((r) => r.id >= 100 && r.id < 220)).toBe(true);
    expect(written.filter((r) => r.id >= 220).length).toBe(180);
  });

  it('is refused when it is malformed, and for a source that cannot tell its backlog', async () => {
    const job = new Job({ name: 'bad-shed' });
    expect(() => job.source(fromCollection([1]), { uid: 'a', shed: { when: {}, policy: { sample: 0.5 } } })).toThrow(/`when.backlog` or `when.latency`/);
    expect(() => job.source(fromCollection([1]), { uid: 'b', shed: { when: { backlog: 1 }, policy: { sample: 2 } } })).toThrow(/between 0 and 1/);
    expect(() => job.source(fromCollection([1]), { uid: 'c', shed: { when: { backlog: 1 }, policy: {} as ShedPolicy<number> } })).toThrow(SluiceError);
    const tag = new OutputTag<number>('s');
    expect(() =>
      job.source(fromCollection([1]), { uid: 'd', watermarks: { timestamps: () => 0 } as never, shed: { when: { backlog: 1 }, policy: { sample: 0.5 }, sideOutput: tag } }),
    ).toThrow(/sideOutput needs the source's own stream/);

    const noBacklog = new Job({ name: 'no-backlog' });
    noBacklog
      .source({ kind: 'blind', bounded: true, createReader: () => ({ poll: async () => ({ values: [1], done: true }), close: async () => {} }) }, { uid: 'in', shed: { when: { backlog: 1 }, policy: { sample: 0.5 } } })
      .sinkTo(collectSink(), { uid: 'out' });
    await expect(noBacklog.start().done).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('cannot tell its backlog') });
  });

  it('a throwing predicate fails the job with an error naming the source and the record', async () => {
    const job = new Job({ name: 'throwing-shed', batchSize: 1 });
    job
      .source(fromCollection([1, 2, 3]), {
        uid: 'in',
        shed: {
          when: { backlog: 0 },
          policy: {
            predicate: () => {
              throw new Error('boom');
            },
          },
        },
      })
      .sinkTo(collectSink(), { uid: 'out' });
    await expect(job.start().done).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', message: expect.stringMatching(/step 'in' \(source\): the shed predicate threw Error: boom/) });
  });
});

describe('load shedding on worker threads', () => {
  it('every reader sheds, and the main thread counts what each shed', async () => {
    const { build, RECORDS } = await import('../fixtures/jobs/shedding-job.js');
    const { job, out } = build();
    const run = job.start();
    await run.done;
    const text = await run.monitor.registry.metrics();
    const shed = [0, 1].map((subtask) => promValue(text, 'sluice_source_shed_total', { job: 'shed-parallel', step: 'numbers', subtask: String(subtask) }) ?? 0);
    expect(shed.every((n) => n > 0)).toBe(true);
    expect(shed[0]! + shed[1]!).toBe(RECORDS - out.values.length);
    // Each reader: 1,000 records in batches of 50, overloaded while more than 200 are left after a read (the first 15 batches: 750 records), half of them shed.
    expect(shed).toEqual([375, 375]);
    expect(out.values.filter((i) => i % 4 < 2).length).toBe(250);
  }, 60_000);
});
