/**
 * The temporal join against a batch reference: random keyed probe and version streams
 * (with deletions) whose disorder the bounded-out-of-orderness watermark generator of each
 * side tolerates, so no record is late; the operator gets the lower of the two sides'
 * watermarks, as the valve of a two-input task gives it. At a random point the operator is
 * snapshotted and restored into a fresh one, or into two subtasks (rescaled by key group);
 * what it emitted before the snapshot plus what the restored ones emit must equal, as a
 * multiset, the reference: for each probe record, the latest version of its key with
 * time <= the probe's (the later to arrive of equal times), unless it is a deletion.
 *
 * A failure prints its seed; rerun with `SLUICE_SEED=<seed> npx vitest run test/window/join/temporal-join.property`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { subtaskForKey } from '../../../src/state/key-groups.js';
import { OperatorHarness } from '../../../src/testing/operator-harness.js';
import { BoundedOutOfOrdernessGenerator } from '../../../src/time/watermark-generator.js';
import { TemporalJoinOperator } from '../../../src/window/join/temporal-join-operator.js';
import { SEED, checkProperty, propertyRuns } from '../../property.js';

interface Probe {
  k: string;
  i: number;
}
interface Version {
  k: string;
  i: number;
  del: boolean;
}
type Rec = Probe | Version;

const D = 100;

/** One rising base for both sides, each timestamp up to D below it; a watermark now and then. */
const streams = fc
  .array(
    fc.record({
      probe: fc.boolean(),
      k: fc.constantFrom('a', 'b', 'c'),
      advance: fc.oneof(fc.constant(0), fc.nat({ max: 30 })),
      back: fc.oneof(fc.constant(0), fc.integer({ min: D - 2, max: D }), fc.nat({ max: D })),
      del: fc.nat({ max: 4 }).map((n) => n === 0),
      watermark: fc.nat({ max: 3 }).map((n) => n === 0),
    }),
    { minLength: 1, maxLength: 150, size: 'large' },
  )
  .map((steps) => {
    let base = 1_000;
    let probes = 0;
    let versions = 0;
    return steps.map((s) => {
      base += s.advance;
      const ts = base - s.back;
      const rec: Rec = s.probe ? { k: s.k, i: probes++ } : { k: s.k, i: versions++, del: s.del };
      return { probe: s.probe, rec, ts, watermark: s.watermark };
    });
  });

type Drawn = ReturnType<typeof streams.generate>['value'];

function reference(events: Drawn, kind: 'inner' | 'left'): string[] {
  const versions = events.filter((e) => !e.probe);
  const out: string[] = [];
  for (const e of events) {
    if (!e.probe) continue;
    let best: (typeof versions)[number] | undefined;
    // Versions in arrival order: `>=` lets the later of equal times win.
    for (const v of versions) if (v.rec.k === e.rec.k && v.ts <= e.ts && (best === undefined || v.ts >= best.ts)) best = v;
    const valid = best && !(best.rec as Version).del ? best.rec.i : undefined;
    if (valid !== undefined || kind === 'left') out.push(`${e.rec.i}:${valid ?? '-'}@${e.ts}`);
  }
  return out.sort();
}

function operator(kind: 'inner' | 'left') {
  return new TemporalJoinOperator<Probe, Version, string, string>({
    probeKey: (p) => p.k,
    versionKey: (v) => v.k,
    kind,
    join: (p, v) => `${p.i}:${v?.i ?? '-'}`,
    isDelete: (v) => v.del,
  });
}

describe(`temporal join equals a batch reference (seed ${SEED})`, () => {
  it('across a snapshot and a restore (at the same or another parallelism) at a random point', async () => {
    await checkProperty(
      fc.asyncProperty(streams, fc.nat(), fc.constantFrom(1, 2), fc.constantFrom('inner' as const, 'left' as const), async (events, cut, parallelism, kind) => {
        const at = cut % (events.length + 1);
        const gens = [new BoundedOutOfOrdernessGenerator<Rec>(D), new BoundedOutOfOrdernessGenerator<Rec>(D)];
        const sideWm = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
        const emitted: string[] = [];
        const collect = (h: OperatorHarness<Rec, string>) => emitted.push(...h.output.map((r) => `${r.value}@${r.timestamp}`));

        let subtasks = [OperatorHarness.of<Rec, string>(operator(kind), { uid: 'tj' })];
        const route = (k: string) => subtasks[subtasks.length === 1 ? 0 : subtaskForKey(k, subtasks.length)]!;
        events.forEach((e, n) => {
          if (n === at) {
            const snapshot = subtasks[0]!.snapshot();
            collect(subtasks[0]!);
            subtasks = Array.from({ length: parallelism }, (_, index) =>
              OperatorHarness.of<Rec, string>(operator(kind), { uid: 'tj', subtask: { index, parallelism } }).initializeStateParts([snapshot]),
            );
          }
          const side = e.probe ? 0 : 1;
          gens[side]!.onEvent(e.rec, e.ts);
          route(e.rec.k).processElement(e.rec, e.ts, side);
          if (e.watermark) {
            gens[side]!.onPeriodicEmit({ emitWatermark: (w) => void (sideWm[side] = w), markIdle: () => {}, markActive: () => {} });
            const w = Math.min(sideWm[0]!, sideWm[1]!);
            if (w > Number.NEGATIVE_INFINITY) for (const h of subtasks) h.processWatermark(w);
          }
        });
        for (const h of subtasks) {
          h.endInput();
          collect(h);
        }
        expect(emitted.sort()).toEqual(reference(events, kind));
      }),
      propertyRuns(200),
    );
  });
});
