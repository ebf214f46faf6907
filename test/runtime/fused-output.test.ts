import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectSink } from '../../src/connectors/collect/index.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { Job } from '../../src/launch/job.js';
import type { DeadLetter } from '../../src/runtime/dead-letter-queue.js';
import { ManualClock } from '../../src/time/clock.js';
import { checkProperty, propertyRuns } from '../property.js';

/** One stateless step of a generated pipeline, and the same as a function over an array (the batch reference). */
type Step = { kind: 'map'; add: number } | { kind: 'filter'; mod: number } | { kind: 'flatMap'; copies: number } | { kind: 'throwing'; mod: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), add: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ kind: fc.constant('filter' as const), mod: fc.integer({ min: 2, max: 4 }) }),
  fc.record({ kind: fc.constant('flatMap' as const), copies: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('throwing' as const), mod: fc.integer({ min: 3, max: 7 }) }),
);

/** What the steps make of `input`, record by record, and the dead letters (step index, record) they leave. */
function batch(steps: readonly Step[], input: readonly number[]): { out: number[]; dead: Array<[number, number]> } {
  let records = [...input];
  const dead: Array<[number, number]> = [];
  steps.forEach((s, i) => {
    const next: number[] = [];
    for (const r of records) {
      if (s.kind === 'map') next.push(r + s.add);
      else if (s.kind === 'filter') {
        if (r % s.mod !== 0) next.push(r);
      } else if (s.kind === 'flatMap') for (let c = 0; c < s.copies; c++) next.push(r * 10 + c);
      else if (r % s.mod === 0) dead.push([i, r]);
      else next.push(r);
    }
    records = next;
  });
  return { out: records, dead };
}

describe('fused stateless steps (map, filter, flatMap in one chain)', () => {
  it('give what the steps give one at a time, with dead letters named by the step that threw, and records in and out per step', async () => {
    await checkProperty(
      fc.asyncProperty(fc.array(stepArb, { minLength: 2, maxLength: 6 }), fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 300 }), async (steps, input) => {
        const job = new Job({ clock: new ManualClock(0), batchSize: 16, onError: 'dead-letter' });
        const out = collectSink<number>();
        const dead = collectSink<DeadLetter>();
        let stream = job.source(fromCollection(input, { timestamps: (n) => 1000 + n }), { uid: 'in' });
        steps.forEach((s, i) => {
          const uid = `s${i}`;
          if (s.kind === 'map') stream = stream.map((n) => n + s.add, { uid });
          else if (s.kind === 'filter') stream = stream.filter((n) => n % s.mod !== 0, { uid });
          else if (s.kind === 'flatMap') stream = stream.flatMap((n) => Array.from({ length: s.copies }, (_, c) => n * 10 + c), { uid });
          else
            stream = stream.map((n) => {
              if (n % s.mod === 0) throw new Error(`multiple of ${s.mod}`);
              return n;
            }, { uid });
        });
        stream.sinkTo(out);
        job.deadLetters().sinkTo(dead);
        const running = job.start();
        await running.done;
        const expected = batch(steps, input);
        expect(out.values).toEqual(expected.out);
        // As a multiset: fused, a record passes every step before the next record starts (Flink's order), so letters of different steps interleave otherwise.
        const byStepAndRecord = (a: unknown[], b: unknown[]) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1]);
        expect(dead.values.map((d) => [Number(d.step.slice(1)), d.record]).sort(byStepAndRecord)).toEqual([...expected.dead].sort(byStepAndRecord));
        for (const d of dead.values) expect(d.error.message).toContain(`step '${d.step}'`);
        // Each step's records in are what the one before passed on (counted per batch).
        const metrics = running.monitor.metrics.snapshot().steps;
        const counts = steps.map((_, i) => metrics.find((m) => m.uid === `s${i}`)!);
        expect(counts[0]!.recordsIn).toBe(input.length);
        for (let i = 1; i < steps.length; i++) expect(counts[i]!.recordsIn).toBe(counts[i - 1]!.recordsOut);
        expect(counts[steps.length - 1]!.recordsOut).toBe(expected.out.length);
        expect(counts.reduce((n, c) => n + c.deadLettered, 0)).toBe(expected.dead.length);
      }),
      propertyRuns(40),
    );
  }, 120_000);

  it('keep the records’ timestamps, and a throw that fails the job names the fused step that threw and shows the record', async () => {
    const job = new Job({ clock: new ManualClock(0) });
    const out = collectSink<number>();
    job
      .source(fromCollection([1, 2, 3, 4], { timestamps: (n) => n * 100 }), { uid: 'in' })
      .map((n) => n * 2, { uid: 'double' })
      .filter((n) => n !== 4, { uid: 'not-four' })
      .flatMap((n) => [n, n + 1], { uid: 'pair' })
      .sinkTo(out);
    await job.run();
    expect(out.values).toEqual([2, 3, 6, 7, 8, 9]);
    expect(out.timestamps).toEqual([100, 100, 300, 300, 400, 400]);

    const failing = new Job({ clock: new ManualClock(0) });
    failing
      .source(fromCollection([{ id: 1 }, { id: 2 }]), { uid: 'in' })
      .map((o) => o, { uid: 'first' })
      .filter((o) => {
        if (o.id === 2) throw new Error('no id 2');
        return true;
      }, { uid: 'second' })
      .sinkTo(collectSink());
    await expect(failing.run()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', message: expect.stringMatching(/step 'second'[\s\S]*"id":2/) });
  });
});
