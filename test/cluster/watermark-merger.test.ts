/**
 * The watermark of a task reading a repartition topic (`src/cluster/watermark-merger.ts`),
 * against a plain model recomputed from the whole event log at every step, over seeded
 * random sequences of assignments, records, markers (idle or not) and processing time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProducerWatermarks } from '../../src/cluster/index.js';
import { checkProperty, propertyRuns } from '../property.js';

type Event =
  | { kind: 'assign'; partitions: number[] }
  | { kind: 'record'; partition: number; task: string }
  | { kind: 'marker'; partition: number; task: string; watermark: number; idle: boolean }
  | { kind: 'tick'; ms: number };

const IDLE = 100;

/** The model: from the log alone, what the merged watermark is at the end of it. */
function model(log: ReadonlyArray<{ event: Event; at: number }>, now: number): number | undefined {
  // Current assignment: per partition, the position in the log and the time of the assign event that added it.
  let assigned = new Map<number, { index: number; at: number }>();
  log.forEach(({ event, at }, index) => {
    if (event.kind !== 'assign') return;
    const next = new Map<number, { index: number; at: number }>();
    for (const p of event.partitions) next.set(p, assigned.get(p) ?? { index, at });
    assigned = next;
  });
  let result = Number.POSITIVE_INFINITY;
  let anyActive = false;
  for (const [p, { index: addedAt, at: since }] of assigned) {
    // Events of this partition since it was (last) added to the assignment.
    const mine = log.slice(addedAt + 1).filter(({ event }) => (event.kind === 'record' || event.kind === 'marker') && event.partition === p);
    const tasks = new Set(mine.map(({ event }) => (event as { task: string }).task));
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const task of tasks) {
      const own = mine.filter(({ event }) => (event as { task: string }).task === task);
      const last = own.at(-1)!;
      const idle = last.event.kind === 'marker' && last.event.idle;
      if (idle || now - last.at >= IDLE) continue;
      const marks = own.flatMap(({ event }) => (event.kind === 'marker' ? [event.watermark] : []));
      active++;
      min = Math.min(min, Math.max(Number.NEGATIVE_INFINITY, ...marks));
    }
    if (active === 0) {
      if (tasks.size === 0 && now - since < IDLE) return undefined;
      continue;
    }
    anyActive = true;
    result = Math.min(result, min);
  }
  return anyActive ? result : undefined;
}

const partition = fc.integer({ min: 0, max: 3 });
const task = fc.constantFrom('s0/0', 's0/1', 's0/2');
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 1, arbitrary: fc.uniqueArray(partition, { maxLength: 4 }).map((partitions) => ({ kind: 'assign' as const, partitions })) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('record' as const), partition, task }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('marker' as const), partition, task, watermark: fc.integer({ min: 0, max: 1000 }), idle: fc.integer({ min: 0, max: 5 }).map((n) => n === 0) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 80 }) }) },
);

describe('ProducerWatermarks', () => {
  it('equals the model after every event, and what advance() emits never moves backwards', async () => {
    await checkProperty(
      fc.asyncProperty(fc.array(event, { maxLength: 80 }), async (events) => {
        const merger = new ProducerWatermarks(IDLE);
        const log: Array<{ event: Event; at: number }> = [];
        let now = 0;
        let emitted = Number.NEGATIVE_INFINITY;
        for (const e of events) {
          if (e.kind === 'tick') now += e.ms;
          else if (e.kind === 'assign') merger.assign(e.partitions, now);
          else if (e.kind === 'record') merger.record(e.partition, e.task, now);
          else merger.marker(e.partition, e.task, e.watermark, e.idle, now);
          log.push({ event: e, at: now });
          expect(merger.current(now)).toBe(model(log, now));
          const w = merger.advance(now);
          if (w !== undefined) {
            expect(w).toBeGreaterThan(emitted);
            emitted = w;
          }
        }
      }),
      propertyRuns(300),
    );
  });

  it('holds back for a producer heard from without a watermark, and lets an idle producer go', () => {
    const m = new ProducerWatermarks(100);
    m.assign([0, 1], 0);
    expect(m.advance(0)).toBeUndefined(); // nothing heard yet
    m.marker(0, 'a', 50, false, 10);
    m.marker(1, 'a', 60, false, 10);
    m.record(1, 'b', 10); // b is active on partition 1 and has no watermark yet
    expect(m.current(20)).toBe(Number.NEGATIVE_INFINITY);
    m.marker(1, 'b', 40, false, 30);
    expect(m.advance(30)).toBe(40);
    m.marker(1, 'b', 70, true, 40); // b goes idle: partition 1 is a's alone
    expect(m.advance(40)).toBe(50);
    m.marker(0, 'a', 80, false, 50);
    m.marker(1, 'a', 90, false, 50);
    expect(m.advance(50)).toBe(80);
    expect(m.advance(200)).toBeUndefined(); // everything silent: nothing to say, nothing backwards
  });
});
