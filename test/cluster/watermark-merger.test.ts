/**
 * The watermark of a task reading a repartition topic (`src/cluster/watermark-merger.ts`),
 * against a plain model recomputed from the whole event log at every step, over seeded
 * random sequences of assignments, markers (idle or not) and processing time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProducerWatermarks, type WatermarkMarker } from '../../src/cluster/index.js';
import { checkProperty, propertyRuns } from '../property.js';

type Marker = WatermarkMarker;
type Event =
  | { kind: 'assign'; partitions: number[] }
  | { kind: 'marker'; partition: number; marker: Marker }
  | { kind: 'tick'; ms: number };

const IDLE = 100;

/** The model: from the log alone, what the merged watermark is at the end of it. */
function model(log: ReadonlyArray<{ event: Event; at: number }>, now: number): number | undefined {
  // Current assignment: per partition, the position in the log where it was (last) added.
  let assigned = new Map<number, number>();
  log.forEach(({ event }, index) => {
    if (event.kind !== 'assign') return;
    assigned = new Map(event.partitions.map((p) => [p, assigned.get(p) ?? index]));
  });
  let result = Number.POSITIVE_INFINITY;
  let anyActive = false;
  for (const [p, addedAt] of assigned) {
    const mine = log.slice(addedAt + 1).filter(({ event }) => event.kind === 'marker' && event.partition === p);
    const markers = mine.flatMap(({ event, at }) => (event.kind === 'marker' ? [{ m: event.marker, at }] : []));
    // A claim: the markers of the newest generation for the key, after the last that changed the subtask count.
    const keys = new Set(markers.flatMap(({ m }) => (m.covers.length === 0 ? [`task:${m.task}`] : m.covers)));
    const claims = [...keys].map((key) => {
      const own = key.startsWith('task:') ? markers.filter(({ m }) => m.covers.length === 0 && `task:${m.task}` === key).map((x) => ({ ...x, subtask: 0, subtasks: 1 })) : markers.filter(({ m }) => m.covers.includes(key)).map((x) => ({ ...x, subtask: x.m.subtask, subtasks: x.m.subtasks }));
      const newest = Math.max(...own.map(({ m }) => m.generation));
      let current = own.filter(({ m }) => m.generation === newest);
      const n = current.at(-1)!.subtasks;
      current = current.slice(current.findLastIndex((x) => x.subtasks !== n) + 1);
      const parts = Array.from({ length: n }, (_, s) => current.filter((x) => x.subtask === s).at(-1));
      // When it was last heard from: its last marker of the newest generation.
      const heard = Math.max(...own.filter(({ m }) => m.generation === newest).map(({ at }) => at));
      return { key, complete: parts.every((x) => x !== undefined), parts: parts.filter((x) => x !== undefined), silent: key.startsWith('task:') && now - heard >= IDLE };
    });
    const inputs = new Map<string, number>();
    for (const { m } of markers) for (const [t, c] of Object.entries(m.inputs)) inputs.set(t, Math.max(inputs.get(t) ?? 0, c));
    const expected = [...inputs].flatMap(([t, c]) => Array.from({ length: c }, (_, i) => `${t}/${i}`));
    if (claims.length === 0 || expected.some((k) => !claims.find((c) => c.key === k)?.complete)) return undefined;
    let min = Number.POSITIVE_INFINITY;
    let active = false;
    for (const c of claims) {
      if (c.silent) continue;
      for (const { m } of c.parts) {
        if (m.idle) continue;
        active = true;
        min = Math.min(min, m.watermark);
      }
    }
    if (!active) continue;
    anyActive = true;
    result = Math.min(result, min);
  }
  return anyActive ? result : undefined;
}

const partition = fc.integer({ min: 0, max: 1 });
const task = fc.constantFrom('m0/out#0', 'm0/out#1', 'm1/out#0');
const marker: fc.Arbitrary<Marker> = fc
  .record({
    task,
    watermark: fc.integer({ min: 0, max: 1000 }),
    idle: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    generation: fc.integer({ min: 1, max: 3 }),
    covers: fc.constantFrom<string[]>([], ['in/0'], ['in/1'], ['in/0', 'in/1'], ['in/0', 'in/1'], ['in/0', 'in/1']),
    subtasks: fc.constantFrom(1, 1, 1, 2),
    subtask: fc.integer({ min: 0, max: 1 }),
  })
  // A producer with partitioned input names its input topics; one without names none.
  .map((m): Marker => ({ ...m, inputs: m.covers.length === 0 ? {} : { in: 2 }, subtask: m.subtask % m.subtasks }));
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 1, arbitrary: fc.uniqueArray(partition, { maxLength: 2 }).map((partitions) => ({ kind: 'assign' as const, partitions })) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('marker' as const), partition, marker }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 80 }) }) },
);

/** A marker of one subtask (of one) speaking for `covers` of input topic `in` (two partitions). */
function said(task: string, generation: number, covers: string[], watermark: number, idle = false): Marker {
  return { task, watermark, idle, generation, inputs: { in: 2 }, covers, subtask: 0, subtasks: 1 };
}

describe('ProducerWatermarks', () => {
  it('equals the model after every event, and what advance() emits never moves backwards', async () => {
    let steps = 0;
    let known = 0;
    await checkProperty(
      fc.asyncProperty(fc.array(event, { maxLength: 80 }), async (later) => {
        const events: Event[] = [{ kind: 'assign', partitions: [0, 1] }, ...later];
        const merger = new ProducerWatermarks(IDLE);
        const log: Array<{ event: Event; at: number }> = [];
        let now = 0;
        let emitted = Number.NEGATIVE_INFINITY;
        for (const e of events) {
          if (e.kind === 'tick') now += e.ms;
          else if (e.kind === 'assign') merger.assign(e.partitions);
          else merger.marker(e.partition, e.marker, now);
          log.push({ event: e, at: now });
          const expected = model(log, now);
          expect(merger.current(now)).toBe(expected);
          steps++;
          if (expected !== undefined) known++;
          const w = merger.advance(now);
          if (w !== undefined) {
            expect(w).toBeGreaterThan(emitted);
            emitted = w;
          }
        }
      }),
      propertyRuns(300),
    );
    // The runs reach states with a watermark, not only unknown ones.
    expect(known / steps).toBeGreaterThan(0.05);
  });

  it('waits until every input partition is spoken for, and lets an idle one go', () => {
    const m = new ProducerWatermarks(100);
    m.assign([0, 1]);
    expect(m.advance(0)).toBeUndefined(); // nothing heard yet
    m.marker(0, said('a', 1, ['in/0'], 50), 10);
    m.marker(1, said('a', 1, ['in/0'], 60), 10);
    expect(m.current(10)).toBeUndefined(); // in/1 unknown
    m.marker(0, said('b', 1, ['in/1'], 40), 20);
    m.marker(1, said('b', 1, ['in/1'], 40), 20);
    expect(m.advance(20)).toBe(40);
    m.marker(0, said('b', 1, ['in/1'], 70, true), 30); // b goes idle: a alone
    m.marker(1, said('b', 1, ['in/1'], 70, true), 30);
    expect(m.advance(30)).toBe(50);
    m.marker(0, said('b', 1, ['in/1'], 70), 40); // b writes again (it says so first): it holds partition 0 back at its 70
    m.marker(0, said('a', 1, ['in/0'], 80), 40);
    m.marker(1, said('a', 1, ['in/0'], 90), 40);
    expect(m.advance(40)).toBe(70);
    expect(m.advance(100_000)).toBeUndefined(); // silence lets nobody go: nothing new to say
  });

  it('a dead member’s input partition holds the watermark where it left it until the new owner speaks, and the old owner’s late word is ignored', () => {
    const m = new ProducerWatermarks(100);
    m.assign([0]);
    m.marker(0, said('m0', 1, ['in/0'], 500), 0);
    m.marker(0, said('m1', 1, ['in/1'], 900), 0);
    expect(m.advance(0)).toBe(500);
    // m0 dies: silence for far longer than any timeout changes nothing.
    m.marker(0, said('m1', 1, ['in/1'], 2000), 50_000);
    expect(m.current(50_000)).toBe(500);
    // m1 takes in/0 over in generation 2: it starts behind m0's word and holds the watermark there.
    m.marker(0, said('m1', 2, ['in/0'], Number.NEGATIVE_INFINITY), 60_000);
    expect(m.current(60_000)).toBe(Number.NEGATIVE_INFINITY);
    m.marker(0, said('m0', 1, ['in/0'], 5000), 60_001); // a zombie of generation 1
    expect(m.current(60_001)).toBe(Number.NEGATIVE_INFINITY);
    m.marker(0, said('m1', 2, ['in/0'], 600), 60_002);
    expect(m.advance(60_002)).toBe(600);
  });

  it('an input partition read by several subtasks is known once each has spoken', () => {
    const m = new ProducerWatermarks(100);
    m.assign([0]);
    const part = (subtask: number, watermark: number): Marker => ({ task: `m0/out#${subtask}`, watermark, generation: 1, inputs: { in: 1 }, covers: ['in/0'], subtask, subtasks: 2 });
    m.marker(0, part(0, 300), 0);
    expect(m.current(0)).toBeUndefined();
    m.marker(0, part(1, 200), 0);
    expect(m.current(0)).toBe(200);
  });

  it('a producer without partitioned input speaks for itself and is let go after the idle timeout of silence', () => {
    const m = new ProducerWatermarks(100);
    m.assign([0]);
    const own = (task: string, watermark: number): Marker => ({ task, watermark, generation: 0, inputs: {}, covers: [], subtask: 0, subtasks: 1 });
    m.marker(0, own('a', 10), 0);
    m.marker(0, own('b', 20), 0);
    expect(m.current(50)).toBe(10);
    m.marker(0, own('b', 20), 60);
    expect(m.current(120)).toBe(20); // a silent for 100
    expect(m.current(160)).toBeUndefined();
  });
});

describe('ProducerWatermarks snapshot and restore', () => {
  it('a task resumed from a snapshot holds its watermark back for the input partitions it knew, as the one before it did', () => {
    const before = new ProducerWatermarks(IDLE);
    before.assign([0, 1]);
    before.marker(0, said('a', 1, ['in/0'], 500), 1);
    before.marker(0, said('b', 1, ['in/1'], 200), 1);
    before.marker(1, said('a', 1, ['in/0'], 400), 1);
    before.marker(1, said('b', 1, ['in/1'], 0, true), 1); // idle: holds nothing back
    expect(before.current(2)).toBe(200);

    const after = new ProducerWatermarks(IDLE);
    after.assign([0, 1]);
    after.restore(before.snapshot(), 1000);
    // The first marker read after the offset is from the producer far ahead: without the
    // snapshot it alone would be known, and b's records after it could be late.
    after.marker(0, said('a', 1, ['in/0'], 600), 1001);
    expect(after.current(1001)).toBe(200);
    after.marker(0, said('b', 1, ['in/1'], 300), 1002);
    expect(after.current(1002)).toBe(300);
    // Partition 1's restored word holds back for as long as nothing newer comes, silent or not.
    expect(after.current(1_000_000)).toBe(300);
    after.marker(1, said('a', 1, ['in/0'], 700), 1_000_001);
    after.marker(0, said('a', 1, ['in/0'], 700), 1_000_001);
    after.marker(0, said('b', 1, ['in/1'], 650), 1_000_001);
    expect(after.current(1_000_001)).toBe(650);
    expect(after.snapshot()).toEqual({
      0: { inputs: { in: 2 }, claims: [['in/0', 1, 1, [[0, 'a', 700, false]]], ['in/1', 1, 1, [[0, 'b', 650, false]]]] },
      1: { inputs: { in: 2 }, claims: [['in/0', 1, 1, [[0, 'a', 700, false]]], ['in/1', 1, 1, [[0, 'b', 0, true]]]] },
    });
  });

  it('restores only the partitions assigned now', () => {
    const before = new ProducerWatermarks(IDLE);
    before.assign([0, 1]);
    before.marker(0, said('a', 1, ['in/0', 'in/1'], 10), 0);
    before.marker(1, said('b', 2, ['in/0', 'in/1'], 5), 0);
    const after = new ProducerWatermarks(IDLE);
    after.assign([0]);
    after.restore(before.snapshot(), 0);
    expect(after.snapshot()).toEqual({ 0: { inputs: { in: 2 }, claims: [['in/0', 1, 1, [[0, 'a', 10, false]]], ['in/1', 1, 1, [[0, 'a', 10, false]]]] } });
    expect(after.current(0)).toBe(10);
  });
});
