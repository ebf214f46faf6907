/**
 * The temporal join operator driven by hand (input 0: probe records, input 1: versions;
 * the watermark given is the one the two inputs' valve would give, the lower of theirs).
 */
import { describe, expect, it } from 'vitest';
import { OutputTag } from '../../../src/core/output-tag.js';
import { mapState } from '../../../src/state/descriptors.js';
import { OperatorHarness } from '../../../src/testing/operator-harness.js';
import { TemporalJoinOperator, type TemporalJoinSpec } from '../../../src/window/join/temporal-join-operator.js';

interface Order {
  cur: string;
  id: number;
}
interface Rate {
  cur: string;
  rate: number;
  /** A deletion marker: the currency is no longer quoted. */
  gone?: boolean;
}

const PROBE = 0;
const VERSION = 1;

function harness(change: Partial<TemporalJoinSpec<Order, Rate, string, string>> = {}) {
  const spec: TemporalJoinSpec<Order, Rate, string, string> = {
    probeKey: (o) => o.cur,
    versionKey: (r) => r.cur,
    kind: 'left',
    join: (o, r) => `${o.id}@${r?.rate ?? '-'}`,
    isDelete: (r) => r.gone === true,
    ...change,
  };
  const op = new TemporalJoinOperator(spec);
  return { op, h: OperatorHarness.of<Order | Rate, string>(op, { uid: 'rates' }) };
}
const order = (id: number, cur = 'eur'): Order => ({ cur, id });
const rate = (r: number, cur = 'eur'): Rate => ({ cur, rate: r });

describe('temporal join operator', () => {
  it('joins a probe record with the version of greatest time at or before its own, once the watermark passes it', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processElement(rate(2), 200, VERSION).processElement(rate(3), 300, VERSION);
    h.processElement(order(1), 250, PROBE).processElement(order(2), 150, PROBE).processElement(order(3), 350, PROBE);
    expect(h.values).toEqual([]); // nothing before the watermark decides
    h.processWatermark(260);
    expect(h.output).toEqual([
      { value: '2@1', timestamp: 150 },
      { value: '1@2', timestamp: 250 },
    ]);
    h.processWatermark(400);
    expect(h.take()).toEqual(['2@1', '1@2', '3@3']);
  });

  it('counts a version that comes after the probe record but before the watermark passes it', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processWatermark(120);
    h.processElement(order(1), 500, PROBE);
    h.processWatermark(400);
    h.processElement(rate(2), 450, VERSION); // late for nothing: the watermark is at 400
    h.processWatermark(600);
    expect(h.values).toEqual(['1@2']);
  });

  it('takes a version at exactly the probe time as valid (Flink: version time <= probe time)', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processElement(rate(2), 200, VERSION).processElement(order(1), 200, PROBE).processWatermark(200);
    expect(h.values).toEqual(['1@2']);
  });

  it('of two versions at one time, keeps the later to arrive', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processElement(rate(2), 100, VERSION).processElement(order(1), 150, PROBE).processWatermark(150);
    expect(h.values).toEqual(['1@2']);
  });

  it('has no valid version after a deletion until the next version', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processElement({ cur: 'eur', rate: 0, gone: true }, 200, VERSION).processElement(rate(3), 300, VERSION);
    h.processElement(order(1), 150, PROBE).processElement(order(2), 250, PROBE).processElement(order(3), 300, PROBE);
    h.processWatermark(1000);
    expect(h.values).toEqual(['1@1', '2@-', '3@3']);
  });

  it('left join emits a probe record without a version with undefined; inner join drops it', () => {
    const left = harness().h;
    const inner = harness({ kind: 'inner' }).h;
    for (const h of [left, inner]) {
      h.processElement(order(1), 50, PROBE).processElement(rate(1), 100, VERSION).processElement(order(2), 100, PROBE);
      h.processElement(order(3, 'usd'), 100, PROBE).processWatermark(200);
    }
    expect(left.values).toEqual(['1@-', '2@1', '3@-']);
    expect(inner.values).toEqual(['2@1']);
  });

  it('keeps state bounded by the watermark: only the version valid at the watermark and later ones stay', () => {
    const { h } = harness();
    const versions = mapState<number, unknown>('temporal-join-versions');
    for (let t = 1; t <= 1000; t++) {
      h.processElement(rate(t), t * 10, VERSION);
      if (t % 10 === 0) h.processWatermark(t * 10 - 25);
    }
    // The watermark is at 9975: the version at 9970 is valid there, 9980..10000 are to come.
    expect(h.state('eur', versions).keys().sort((a, b) => a - b)).toEqual([9970, 9980, 9990, 10_000]);
    h.processElement(order(1), 9976, PROBE).processWatermark(20_000);
    expect(h.values).toEqual(['1@997']);
    expect(h.state('eur', versions).keys()).toEqual([10_000]);
    // A deletion valid at the watermark leaves nothing behind, nor do the joined probe records.
    h.processElement({ cur: 'eur', rate: 0, gone: true }, 20_001, VERSION).processWatermark(30_000);
    expect(h.keys('temporal-join-versions')).toEqual([]);
    expect(h.keys('temporal-join-probes')).toEqual([]);
  });

  it('sends records at or behind the watermark to their late outputs, or counts and drops them', () => {
    const lateOrders = new OutputTag<Order>('late-orders');
    const lateRates = new OutputTag<Rate>('late-rates');
    const tagged = harness({ lateProbes: lateOrders, lateVersions: lateRates });
    const counted = harness();
    for (const { h } of [tagged, counted]) {
      h.processElement(rate(1), 100, VERSION).processWatermark(200);
      h.processElement(order(1), 200, PROBE).processElement(rate(2), 150, VERSION).processElement(order(2), 201, PROBE);
      h.processWatermark(300);
    }
    expect(tagged.h.values).toEqual(['2@1']); // the late rate at 150 changed nothing
    expect(tagged.h.sideOutput(lateOrders)).toEqual([order(1)]);
    expect(tagged.h.sideOutput(lateRates)).toEqual([rate(2)]);
    expect(tagged.op.lateToSideOutput).toBe(2);
    expect(tagged.op.lateDropped).toBe(0);
    expect(counted.h.values).toEqual(['2@1']);
    expect([counted.op.lateProbesDropped, counted.op.lateVersionsDropped, counted.op.lateDropped, counted.op.lateToSideOutput]).toEqual([1, 1, 2, 0]);
  });

  it('takes a version time from versionTime when given', () => {
    const { h } = harness({ versionTime: (r) => r.rate * 100 });
    h.processElement(rate(1), 999, VERSION).processElement(rate(2), 0, VERSION).processElement(order(1), 150, PROBE).processWatermark(150);
    expect(h.values).toEqual(['1@1']);
  });

  it('waiting probe records and versions survive a snapshot and restore', () => {
    const { h } = harness();
    h.processElement(rate(1), 100, VERSION).processElement(order(1), 300, PROBE).processWatermark(150);
    const snapshot = h.snapshot();
    const restored = harness().h.initializeState(snapshot);
    restored.processElement(rate(2), 250, VERSION).processWatermark(300);
    expect(restored.values).toEqual(['1@2']);
  });

  it('fails with NO_TIMESTAMP on a record without timestamp', () => {
    const { h } = harness();
    expect(() => h.processElement(order(1), Number.NaN, PROBE)).toThrow(expect.objectContaining({ code: 'NO_TIMESTAMP' }));
  });
});
