/** The processing-time temporal join driven by hand (input 0: probe records, input 1: versions). */
import { describe, expect, it } from 'vitest';
import { Job, collectSink, fromCollection, temporalJoin } from '../../../src/index.js';
import { OperatorHarness } from '../../../src/testing/operator-harness.js';
import { ProcessingTimeTemporalJoinOperator } from '../../../src/window/join/processing-time-temporal-join-operator.js';

interface Order {
  cur: string;
  id: number;
}
interface Rate {
  cur: string;
  rate: number;
  gone?: boolean;
}
const PROBE = 0;
const VERSION = 1;

function harness(kind: 'inner' | 'left') {
  const op = new ProcessingTimeTemporalJoinOperator<Order, Rate, string, string>({
    probeKey: (o) => o.cur,
    versionKey: (r) => r.cur,
    kind,
    join: (o, r) => `${o.id}@${r?.rate ?? '-'}`,
    isDelete: (r) => r.gone === true,
  });
  return OperatorHarness.of<Order | Rate, string>(op, { uid: 'rates' });
}

describe('processing-time temporal join', () => {
  it('joins a probe record at once with the latest version of its key to have arrived, whatever the times; a deletion clears it', () => {
    const h = harness('left');
    h.processElement({ cur: 'eur', id: 1 }, 500, PROBE); // no version yet
    h.processElement({ cur: 'eur', rate: 2 }, 900, VERSION);
    h.processElement({ cur: 'eur', id: 2 }, 100, PROBE); // an older event time: the latest version all the same
    h.processElement({ cur: 'usd', id: 3 }, 100, PROBE); // another key
    h.processElement({ cur: 'eur', rate: 3 }, 50, VERSION).processElement({ cur: 'eur', id: 4 }, 600, PROBE);
    h.processElement({ cur: 'eur', rate: 0, gone: true }, 700, VERSION).processElement({ cur: 'eur', id: 5 }, 800, PROBE);
    expect(h.output).toEqual([
      { value: '1@-', timestamp: 500 },
      { value: '2@2', timestamp: 100 },
      { value: '3@-', timestamp: 100 },
      { value: '4@3', timestamp: 600 },
      { value: '5@-', timestamp: 800 },
    ]);
  });

  it("kind 'inner' drops a probe record without a version; the latest version survives a snapshot and restore", () => {
    const h = harness('inner');
    h.processElement({ cur: 'eur', id: 1 }, 1, PROBE).processElement({ cur: 'eur', rate: 7 }, 2, VERSION);
    const snapshot = h.snapshot(1);
    const restored = harness('inner');
    restored.initializeState(snapshot);
    restored.processElement({ cur: 'eur', id: 2 }, 3, PROBE);
    expect(h.values).toEqual([]);
    expect(restored.values).toEqual(['2@7']);
  });

  it("is chosen with time: 'processing', which refuses the event-time join's options", async () => {
    const job = new Job({ name: 'pt-temporal' });
    const orders = job.source(fromCollection([{ cur: 'eur', id: 1 }]), { uid: 'orders' }).keyBy((o) => o.cur);
    const rates = job.source(fromCollection<Rate>([]), { uid: 'rates-in' }).keyBy((r) => r.cur);
    expect(() => temporalJoin(orders, rates, { uid: 'x', kind: 'left', time: 'processing', versionTime: (r) => r.rate, join: (o) => o.id })).toThrow(/belong to the event-time join/);
    const out = collectSink<string>();
    temporalJoin(orders, rates, { uid: 'priced', kind: 'left', time: 'processing', join: (o, r) => `${o.id}@${r?.rate ?? '-'}` }).sinkTo(out);
    expect(job.explain()).toMatch(/temporal join in processing time/);
    await job.run();
    expect(out.values).toEqual(['1@-']);
  });
});
