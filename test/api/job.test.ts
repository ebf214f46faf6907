import { describe, expect, it } from 'vitest';
import { Job } from '../../src/launch/job.js';
import { OutputTag } from '../../src/core/output-tag.js';
import type { KeyedCoProcessFunction, KeyedProcessFunction, ProcessFunction } from '../../src/core/functions.js';
import { fromCollection } from '../../src/connectors/collection/index.js';
import { valueState } from '../../src/state/descriptors.js';
import type { ValueState } from '../../src/state/types.js';
import { ManualClock } from '../../src/time/clock.js';
import type { WatermarkGenerator } from '../../src/time/watermark-generator.js';
import { WatermarkStrategy } from '../../src/time/watermark-strategy.js';
import { collecting, pushSource, settle } from '../helpers.js';

interface Ev {
  k: string;
  v: number;
  ts: number;
}

const sorted = <T>(xs: T[]): T[] => [...xs].sort();

/** Runs a job on a ManualClock that nobody advances: only the data drives it. */
function newJob(opts: ConstructorParameters<typeof Job>[0] = {}): Job {
  return new Job({ clock: new ManualClock(0), ...opts });
}

describe('Job: stateless steps', () => {
  it('map, filter and flatMap in a chain', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    job
      .source(fromCollection(['a b', '', 'c d e']), { uid: 'lines' })
      .flatMap((l) => l.split(' '))
      .filter((w) => w.length > 0)
      .map((w) => w.toUpperCase())
      .sinkTo(sink);
    await expect(job.run()).resolves.toEqual({ status: 'finished' });
    expect(out.values).toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('keeps every record across many batches, in order, with batchSize 1 and 3', async () => {
    for (const batchSize of [1, 3]) {
      const job = newJob({ batchSize });
      const { sink, out } = collecting<number>();
      const input = Array.from({ length: 100 }, (_, i) => i);
      job.source(fromCollection(input), { uid: 'n' }).map((n) => n * 2).filter((n) => n % 3 !== 0).sinkTo(sink);
      await job.run();
      expect(out.values).toEqual(input.map((n) => n * 2).filter((n) => n % 3 !== 0));
    }
  });

  it('process: any number of outputs per record, with the record timestamp', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const dup: ProcessFunction<Ev, string> = {
      processElement(e, ctx, o) {
        for (let i = 0; i < e.v; i++) o.collect(`${e.k}${i}@${ctx.timestamp}`);
      },
    };
    job
      .source(fromCollection<Ev>([{ k: 'a', v: 2, ts: 10 }, { k: 'b', v: 0, ts: 20 }, { k: 'c', v: 1, ts: 30 }], { timestamps: (e) => e.ts }), { uid: 's' })
      .process(dup)
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['a0@10', 'a1@10', 'c0@30']);
    expect(out.timestamps).toEqual([10, 10, 30]);
  });

  it('side outputs with OutputTag go to their own stream', async () => {
    const job = newJob();
    const big = new OutputTag<number>('big');
    const odd = new OutputTag<string>('odd');
    const main = collecting<number>();
    const bigOut = collecting<number>();
    const oddOut = collecting<string>();
    const s = job.source(fromCollection([1, 50, 2, 70, 3]), { uid: 'n' }).process<number>({
      processElement(n, ctx, out) {
        if (n > 10) ctx.output(big, n);
        else out.collect(n);
        if (n % 2 === 1) ctx.output(odd, `odd ${n}`);
      },
    });
    s.sinkTo(main.sink);
    s.sideOutput(big).sinkTo(bigOut.sink);
    s.sideOutput(odd).map((x) => x.toUpperCase()).sinkTo(oddOut.sink);
    await job.run();
    expect(main.out.values).toEqual([1, 2, 3]);
    expect(bigOut.out.values).toEqual([50, 70]);
    expect(oddOut.out.values).toEqual(['ODD 1', 'ODD 3']);
  });

  it('a stream consumed twice feeds both consumers', async () => {
    const job = newJob();
    const a = collecting<number>();
    const b = collecting<number>();
    const s = job.source(fromCollection([1, 2, 3]), { uid: 'n' });
    s.map((n) => n + 1).sinkTo(a.sink);
    s.map((n) => n * 10).sinkTo(b.sink);
    await job.run();
    expect(a.out.values).toEqual([2, 3, 4]);
    expect(b.out.values).toEqual([10, 20, 30]);
  });

  it('union merges streams of one type', async () => {
    const job = newJob({ batchSize: 2 });
    const { sink, out } = collecting<number>();
    const a = job.source(fromCollection([1, 2, 3]), { uid: 'a' });
    const b = job.source(fromCollection([10, 20]), { uid: 'b' });
    const c = job.source(fromCollection([100]), { uid: 'c' });
    a.union(b, c).map((n) => n).sinkTo(sink);
    await job.run();
    expect(sorted(out.values.map(String))).toEqual(sorted(['1', '2', '3', '10', '20', '100']));
    // each input keeps its own order
    expect(out.values.filter((n) => n < 10)).toEqual([1, 2, 3]);
  });

  it('connect + co-process sees each input in its own handler', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const nums = job.source(fromCollection([1, 2]), { uid: 'nums' });
    const words = job.source(fromCollection(['x', 'y']), { uid: 'words' });
    nums
      .connect(words)
      .process<string>({
        processElement1: (n, _ctx, o) => o.collect(`n${n}`),
        processElement2: (w, _ctx, o) => o.collect(`w${w}`),
      })
      .sinkTo(sink);
    await job.run();
    expect(sorted(out.values)).toEqual(['n1', 'n2', 'wx', 'wy']);
  });
});

describe('Job: keyed steps', () => {
  const events: Ev[] = [
    { k: 'a', v: 1, ts: 1 },
    { k: 'b', v: 10, ts: 2 },
    { k: 'a', v: 2, ts: 3 },
    { k: 'c', v: 5, ts: 4 },
    { k: 'b', v: 20, ts: 5 },
    { k: 'a', v: 3, ts: 6 },
  ];

  it('keyBy(function) + reduce emits the running reduction per key', async () => {
    const job = newJob();
    const { sink, out } = collecting<Ev>();
    job
      .source(fromCollection(events), { uid: 'ev' })
      .keyBy((e) => e.k)
      .reduce((acc, e) => ({ ...e, v: acc.v + e.v }), { uid: 'sum' })
      .sinkTo(sink);
    await job.run();
    expect(out.values.map((e) => `${e.k}=${e.v}`)).toEqual(['a=1', 'b=10', 'a=3', 'c=5', 'b=30', 'a=6']);
  });

  it('keyBy(field name) + aggregate emits the running aggregate per key', async () => {
    const job = newJob({ batchSize: 2 });
    const { sink, out } = collecting<string>();
    job
      .source(fromCollection(events), { uid: 'ev' })
      .keyBy('k')
      .aggregate<{ k: string; sum: number; n: number }, string>(
        {
          createAccumulator: () => ({ k: '', sum: 0, n: 0 }),
          add: (e, acc) => ({ k: e.k, sum: acc.sum + e.v, n: acc.n + 1 }),
          getResult: (acc) => `${acc.k}:${acc.sum}/${acc.n}`,
        },
        { uid: 'avg' },
      )
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['a:1/1', 'b:10/1', 'a:3/2', 'c:5/1', 'b:30/2', 'a:6/3']);
  });

  it('keyed state is per key, and numeric and bigint keys work', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const counter: KeyedProcessFunction<number | bigint, { id: number | bigint }, string> & { n?: ValueState<number> } = {
      open(ctx) {
        this.n = ctx.state(valueState<number>('n', { defaultValue: 0 }));
      },
      processElement(_e, ctx, o) {
        const n = this.n!.value()! + 1;
        this.n!.update(n);
        o.collect(`${String(ctx.key)}#${n}`);
      },
    };
    job
      .source(fromCollection<{ id: number | bigint }>([{ id: 1 }, { id: 2n }, { id: 1 }, { id: 2n }, { id: 3 }]), { uid: 'ids' })
      .keyBy((e) => e.id)
      .process(counter, { uid: 'count' })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['1#1', '2#1', '1#2', '2#2', '3#1']);
  });

  it('keyed co-process shares state and timers of a key across both inputs', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    type Order = { id: string; n: number };
    type Pay = { order: string; amount: number };
    const fn: KeyedCoProcessFunction<string, Order, Pay, string> & { total?: ValueState<number> } = {
      open(ctx) {
        this.total = ctx.state(valueState<number>('total', { defaultValue: 0 }));
      },
      processElement1(o, ctx) {
        this.total!.update(this.total!.value()! + o.n);
        ctx.timerService.registerEventTimeTimer(1e15); // fires only at the end of input
      },
      processElement2(p, ctx) {
        this.total!.update(this.total!.value()! + p.amount);
        ctx.timerService.registerEventTimeTimer(1e15);
      },
      onTimer(ts, ctx, o) {
        o.collect(`${ctx.key}=${this.total!.value()}@${ts}:${ctx.timeDomain}`);
      },
    };
    const orders = job.source(fromCollection<Order>([{ id: 'x', n: 1 }, { id: 'y', n: 2 }, { id: 'x', n: 4 }]), { uid: 'orders' });
    const pays = job.source(fromCollection<Pay>([{ order: 'x', amount: 100 }, { order: 'z', amount: 7 }]), { uid: 'pays' });
    orders
      .connect(pays)
      .keyBy(
        (o) => o.id,
        (p) => p.order,
      )
      .process(fn, { uid: 'match' })
      .sinkTo(sink);
    await job.run();
    expect(sorted(out.values)).toEqual(['x=105@1000000000000000:event-time', 'y=2@1000000000000000:event-time', 'z=7@1000000000000000:event-time']);
  });

  it('KeyedStream.connect keys both sides by their own selectors', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const a = job.source(fromCollection([{ u: 'p' }, { u: 'q' }]), { uid: 'a' }).keyBy('u');
    const b = job.source(fromCollection(['p', 'p']), { uid: 'b' }).keyBy((s) => s);
    a.connect(b)
      .process<string>(
        {
          processElement1: (_v, ctx, o) => o.collect(`1:${ctx.key}`),
          processElement2: (_v, ctx, o) => o.collect(`2:${ctx.key}`),
        },
        { uid: 'co' },
      )
      .sinkTo(sink);
    await job.run();
    expect(sorted(out.values)).toEqual(['1:p', '1:q', '2:p', '2:p']);
  });
});

describe('Job: event time', () => {
  /** Emits the timestamp of every event-time timer as it fires, with the watermark then. */
  const timerEcho = (offset: number): KeyedProcessFunction<string, Ev, string> => ({
    processElement(e, ctx) {
      ctx.timerService.registerEventTimeTimer(e.ts + offset);
    },
    onTimer(ts, ctx, o) {
      o.collect(`${ctx.key}@${ts} wm=${ctx.currentWatermark()}`);
    },
  });

  it('timers fire in timestamp order as the watermark passes them, and the rest at the end of input', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<string>();
    const input: Ev[] = [
      { k: 'a', v: 0, ts: 100 },
      { k: 'b', v: 0, ts: 300 },
      { k: 'a', v: 0, ts: 200 }, // out of order, within the bound
      { k: 'c', v: 0, ts: 1000 },
      { k: 'a', v: 0, ts: 1100 },
    ];
    job
      .source(fromCollection(input), {
        uid: 'ev',
        watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Ev>(100).withTimestampAssigner((e) => e.ts),
      })
      .keyBy((e) => e.k)
      .process(timerEcho(0), { uid: 'echo' })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual([
      // after ts 1000 the watermark is 899: timers at 200 and 300 are due
      'a@100 wm=199', // after ts 300 the watermark is 300 - 100 - 1
      'a@200 wm=899',
      'b@300 wm=899',
      // the final watermark fires what is left
      'c@1000 wm=Infinity',
      'a@1100 wm=Infinity',
    ]);
    expect(out.timestamps).toEqual([100, 200, 300, 1000, 1100]);
  });

  it('timers registered in onTimer fire in the same pass when due, also at the final watermark', async () => {
    const job = newJob();
    const { sink, out } = collecting<number>();
    job
      .source(fromCollection([1]), { uid: 'n' }) // no watermarks: only the final one fires timers
      .keyBy((n) => n)
      .process<number>(
        {
          processElement: (_n, ctx) => ctx.timerService.registerEventTimeTimer(10),
          onTimer: (ts, ctx, o) => {
            o.collect(ts);
            if (ts < 30) ctx.timerService.registerEventTimeTimer(ts + 10);
          },
        },
        { uid: 'chain-of-timers' },
      )
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual([10, 20, 30]);
  });

  it('a deleted event-time timer does not fire; registering one twice fires it once', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    job
      .source(fromCollection(['a', 'a', 'b']), { uid: 'n' })
      .keyBy((s) => s)
      .process<string>(
        {
          processElement: (s, ctx) => {
            ctx.timerService.registerEventTimeTimer(100);
            if (s === 'b') {
              ctx.timerService.registerEventTimeTimer(200);
              ctx.timerService.deleteEventTimeTimer(100);
            }
          },
          onTimer: (ts, ctx, o) => o.collect(`${ctx.key}@${ts}`),
        },
        { uid: 't' },
      )
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['a@100', 'b@200']);
  });

  it('bounded out-of-orderness: watermark = max timestamp - delay - 1, and never goes back', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<[number, number]>();
    job
      .source(fromCollection([1000, 1500, 1200, 2000, 1900]), {
        uid: 'ts',
        watermarks: WatermarkStrategy.forBoundedOutOfOrderness<number>('200ms').withTimestampAssigner((n) => n),
      })
      .process<[number, number]>({ processElement: (n, ctx, o) => o.collect([n, ctx.currentWatermark()]) })
      .sinkTo(sink);
    await job.run();
    // each record sees the watermark emitted after the one before it
    expect(out.values).toEqual([
      [1000, Number.NEGATIVE_INFINITY],
      [1500, 799],
      [1200, 1299],
      [2000, 1299],
      [1900, 1799],
    ]);
  });

  it('monotonous timestamps: watermark = max timestamp - 1', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<number>();
    job
      .source(fromCollection([10, 20, 30]), { uid: 'ts', watermarks: WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n) })
      .process<number>({ processElement: (_n, ctx, o) => o.collect(ctx.currentWatermark()) })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual([Number.NEGATIVE_INFINITY, 9, 19]);
  });

  it('timestamps from the source are used when there is no assigner', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<number>();
    job
      .source(fromCollection([5, 7], { timestamps: (n) => n * 100 }), { uid: 'ts', watermarks: WatermarkStrategy.forMonotonousTimestamps<number>() })
      .process<number>({ processElement: (_n, ctx, o) => o.collect(ctx.currentWatermark()) })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual([Number.NEGATIVE_INFINITY, 499]);
    expect(out.timestamps).toEqual([500, 700]);
  });

  it('a custom (punctuated) generator decides the watermarks; lower ones are ignored downstream', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<number>();
    type Rec = { ts: number; mark?: boolean };
    const punctuated = (): WatermarkGenerator<Rec> => ({
      onEvent: (r, ts, o) => {
        if (r.mark) o.emitWatermark(ts);
      },
      onPeriodicEmit: () => {},
    });
    const input: Rec[] = [{ ts: 10 }, { ts: 50, mark: true }, { ts: 60 }, { ts: 30, mark: true }, { ts: 70 }, { ts: 80, mark: true }, { ts: 90 }];
    job
      .source(fromCollection(input), { uid: 'p', watermarks: WatermarkStrategy.forGenerator(punctuated).withTimestampAssigner((r) => r.ts) })
      .process<number>({ processElement: (_r, ctx, o) => o.collect(ctx.currentWatermark()) })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 50, 50, 50, 50, 80]);
  });

  it('a punctuated watermark follows its own record, also inside one batch', async () => {
    const job = newJob(); // one batch of 1024 holds every record
    const { sink, out } = collecting<string>();
    type Rec = { ts: number; mark?: boolean };
    const punctuated = (): WatermarkGenerator<Rec> => ({
      onEvent: (r, ts, o) => {
        if (r.mark) o.emitWatermark(ts);
      },
      onPeriodicEmit: () => {},
    });
    const input: Rec[] = [{ ts: 10 }, { ts: 50, mark: true }, { ts: 20 }, { ts: 60 }, { ts: 70, mark: true }, { ts: 80 }];
    job
      .source(fromCollection(input, { timestamps: (r) => r.ts }), { uid: 'p', watermarks: WatermarkStrategy.forGenerator(punctuated) })
      .process<string>({ processElement: (r, ctx, o) => o.collect(`${r.ts}:${ctx.currentWatermark()}${r.ts <= ctx.currentWatermark() ? ' late' : ''}`) })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['10:-Infinity', '50:-Infinity', '20:50 late', '60:50', '70:50', '80:70']);
    expect(out.timestamps).toEqual([10, 50, 20, 60, 70, 80]);
  });

  it('records without timestamps pass a watermark step (punctuated split) unchanged', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const markEvery = (): WatermarkGenerator<string> => ({
      onEvent: (s, _ts, o) => {
        if (s.startsWith('!')) o.emitWatermark(Number(s.slice(1)));
      },
      onPeriodicEmit: () => {},
    });
    job
      .source(fromCollection(['a', '!5', 'b', '!9', 'c']), { uid: 'p', watermarks: WatermarkStrategy.forGenerator(markEvery) })
      .process<string>({ processElement: (s, ctx, o) => o.collect(`${s}:${ctx.currentWatermark()}`) })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['a:-Infinity', '!5:-Infinity', 'b:5', '!9:5', 'c:9']);
  });

  it('assignTimestampsAndWatermarks on a stream after other steps', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<string>();
    job
      .source(fromCollection(['a:100', 'b:300', 'a:500']), { uid: 'raw' })
      .map((s) => ({ k: s.split(':')[0]!, v: 0, ts: Number(s.split(':')[1]) }))
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.k)
      .process(timerEcho(0), { uid: 'echo' })
      .sinkTo(sink);
    await job.run();
    expect(out.values).toEqual(['a@100 wm=299', 'b@300 wm=499', 'a@500 wm=Infinity']);
  });

  it('a union’s watermark is the minimum of its inputs and never moves backwards', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<number>();
    const strategy = WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((n) => n);
    const a = job.source(fromCollection([100, 200, 300, 400, 500, 600]), { uid: 'a', watermarks: strategy });
    const b = job.source(fromCollection([10, 20, 30, 700, 800]), { uid: 'b', watermarks: strategy });
    a.union(b)
      .process<number>({ processElement: (_n, ctx, o) => o.collect(ctx.currentWatermark()) })
      .sinkTo(sink);
    await job.run();
    const wms = out.values;
    expect(wms).toHaveLength(11);
    for (let i = 1; i < wms.length; i++) expect(wms[i]!).toBeGreaterThanOrEqual(wms[i - 1]!);
    // while both run, the watermark cannot pass the lower input's (b's last record is 800)
    expect(Math.max(...wms)).toBeLessThanOrEqual(799);
  });

  it('an idle input (withIdleness) stops holding back a union’s watermark; driven by a ManualClock', async () => {
    const clock = new ManualClock(0);
    const job = new Job({ clock, batchSize: 1 });
    const { sink, out } = collecting<string>();
    const fast = pushSource<Ev>();
    const slow = pushSource<Ev>();
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts);
    const a = job.source(fast.source, { uid: 'fast', watermarks: strategy });
    const b = job.source(slow.source, { uid: 'slow', watermarks: strategy.withIdleness('1s') });
    a.union(b)
      .keyBy((e) => e.k)
      .process(timerEcho(0), { uid: 'echo' })
      .sinkTo(sink);
    const running = job.start();

    slow.push([{ k: 's', v: 0, ts: 100 }]);
    fast.push([{ k: 'f', v: 0, ts: 1000 }, { k: 'f', v: 0, ts: 5000 }]);
    await settle(20);
    // fast is at 4999 but slow holds the union at 99: the timer at 1000 waits
    expect(out.values).toEqual([]);

    clock.advance(600); // not idle yet
    await settle(20);
    expect(out.values).toEqual([]);

    clock.advance(600); // 1200 ms without records from slow: idle
    await settle(20);
    expect(out.values).toEqual(['s@100 wm=4999', 'f@1000 wm=4999']);

    // slow comes back with an old timestamp: the watermark does not go back
    slow.push([{ k: 's', v: 0, ts: 200 }]);
    fast.push([{ k: 'f', v: 0, ts: 6000 }]);
    await settle(20);
    expect(out.values.slice(2)).toEqual([]); // held back again by slow at 199
    slow.end();
    fast.end();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(out.values.slice(2)).toEqual(['s@200 wm=Infinity', 'f@5000 wm=Infinity', 'f@6000 wm=Infinity']);
  });

  it('an ended input does not push a union’s watermark past an idle one that may resume', async () => {
    const clock = new ManualClock(0);
    const job = new Job({ clock, batchSize: 1 });
    const { sink, out } = collecting<string>();
    const a = pushSource<Ev>();
    const b = pushSource<Ev>();
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts);
    const late: number[] = [];
    job
      .source(a.source, { uid: 'a', watermarks: strategy })
      .union(job.source(b.source, { uid: 'b', watermarks: strategy.withIdleness('1s') }))
      .keyBy((e) => e.k)
      .process<string>(
        {
          processElement(e, ctx) {
            if (e.ts <= ctx.currentWatermark()) late.push(e.ts);
            ctx.timerService.registerEventTimeTimer(e.ts);
          },
          onTimer: (ts, ctx, o) => o.collect(`${ctx.key}@${ts} wm=${ctx.currentWatermark()}`),
        },
        { uid: 'echo' },
      )
      .sinkTo(sink);
    const running = job.start();
    b.push([{ k: 'b', v: 0, ts: 100 }]);
    a.push([{ k: 'a', v: 0, ts: 1000 }, { k: 'a', v: 0, ts: 2000 }]);
    await settle(20);
    clock.advance(1200); // b idle
    await settle(20);
    expect(out.values).toEqual(['b@100 wm=1999', 'a@1000 wm=1999']);
    a.end(); // b is idle, not ended: the watermark must stay
    await settle(20);
    expect(out.values).toHaveLength(2);
    b.push([{ k: 'b', v: 0, ts: 2500 }]); // b resumes: its record is not late
    await settle(20);
    expect(out.values.slice(2)).toEqual(['a@2000 wm=2499']);
    b.end();
    await running.done;
    expect(out.values.slice(3)).toEqual(['b@2500 wm=Infinity']);
    expect(late).toEqual([]);
  });

  it('a task whose open inputs are all idle after another ended tells its consumers it is idle', async () => {
    const clock = new ManualClock(0);
    const job = new Job({ clock, batchSize: 1 });
    const { sink, out } = collecting<string>();
    const [a, b, c] = [pushSource<Ev>(), pushSource<Ev>(), pushSource<Ev>()];
    const strategy = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts);
    const ab = job
      .source(a.source, { uid: 'a', watermarks: strategy })
      .union(job.source(b.source, { uid: 'b', watermarks: strategy.withIdleness('1s') }))
      .map((e) => e, { uid: 'ab' });
    ab.union(job.source(c.source, { uid: 'c', watermarks: strategy }))
      .keyBy((e) => e.k)
      .process(timerEcho(0), { uid: 'echo' })
      .sinkTo(sink);
    expect(job.explain()).toMatch(/task 5 {2}<- forward from 'ab', forward from 'watermarks-3'/);
    const running = job.start();
    b.push([{ k: 'b', v: 0, ts: 100 }]);
    a.push([{ k: 'a', v: 0, ts: 200 }]);
    c.push([{ k: 'c', v: 0, ts: 5000 }]);
    await settle(20);
    clock.advance(1200); // b idle: the first union follows a (199)
    await settle(20);
    expect(out.values).toEqual(['b@100 wm=199']);
    a.end(); // the first union's only open input is idle: it must stop holding back the second
    await settle(20);
    expect(out.values).toEqual(['b@100 wm=199', 'a@200 wm=4999']);
    b.end();
    c.end();
    await running.done;
    expect(out.values.slice(2)).toEqual(['c@5000 wm=Infinity']);
  });

  it('processing-time timers fire when the ManualClock reaches them', async () => {
    const clock = new ManualClock(1_000);
    const job = new Job({ clock });
    const { sink, out } = collecting<string>();
    const src = pushSource<string>();
    job
      .source(src.source, { uid: 'in' })
      .keyBy((s) => s)
      .process<string>(
        {
          processElement(s, ctx) {
            const now = ctx.timerService.currentProcessingTime();
            ctx.timerService.registerProcessingTimeTimer(now + (s === 'slow' ? 500 : 100));
            if (s === 'gone') ctx.timerService.deleteProcessingTimeTimer(now + 100);
          },
          onTimer(ts, ctx, o) {
            o.collect(`${ctx.key}@${ts}:${ctx.timeDomain}:now=${ctx.currentProcessingTime()}`);
          },
        },
        { uid: 'pt' },
      )
      .sinkTo(sink);
    const running = job.start();
    src.push(['fast', 'slow', 'fast', 'gone']);
    await settle(20);
    expect(out.values).toEqual([]);
    clock.advance(99);
    await settle(20);
    expect(out.values).toEqual([]);
    clock.advance(1);
    await settle(20);
    expect(out.values).toEqual(['fast@1100:processing-time:now=1100']);
    clock.advance(400);
    await settle(20);
    expect(out.values).toEqual(['fast@1100:processing-time:now=1100', 'slow@1500:processing-time:now=1500']);
    src.end();
    await running.done;
  });

  it('cancel() stops an unbounded job without firing pending event-time timers', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const src = pushSource<Ev>();
    job
      .source(src.source, { uid: 'in', watermarks: WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts) })
      .keyBy((e) => e.k)
      .process(timerEcho(1000), { uid: 'echo' })
      .sinkTo(sink);
    const running = job.start();
    src.push([{ k: 'a', v: 0, ts: 1 }]);
    await settle(20);
    running.cancel();
    await expect(running.done).resolves.toEqual({ status: 'cancelled' });
    expect(out.values).toEqual([]);
  });
});

describe('Job: plan', () => {
  it('explain() lists the tasks and the steps chained in each', () => {
    const job = new Job({ name: 'demo', batchSize: 64, flushInterval: '5ms', channelCapacity: 4 });
    const { sink } = collecting<number>();
    const a = job.source(fromCollection([1]), { uid: 'nums' }).map((n) => n + 1, { uid: 'plus-one' });
    const b = job.source(fromCollection([2]), { uid: 'more' });
    a.union(b)
      .keyBy((n) => n % 2)
      .reduce((x, y) => x + y, { uid: 'sum-by-parity' })
      .sinkTo(sink, { uid: 'out' });
    const text = job.explain();
    expect(text).toContain("Job 'demo': 3 tasks (batches of 64, flush 5ms, channel capacity 4 batches)");
    expect(text).toMatch(/task 1\n\s+nums\s+source\s+collection/);
    expect(text).toMatch(/plus-one\s+map/);
    expect(text).toMatch(/task 3 {2}<- forward from 'plus-one', forward from 'more'/);
    expect(text).toMatch(/sum-by-parity\s+reduce\s+running reduce keyed\s+\[stateful\]/);
    expect(text).toMatch(/out\s+sink\s+test-collect/);
    // explain runs nothing: the job can still run
    expect(() => job.start().cancel()).not.toThrow();
  });

  it('a job runs once', async () => {
    const job = newJob();
    job.source(fromCollection([1]), { uid: 'n' }).sinkTo(collecting<number>().sink);
    await job.run();
    expect(() => job.source(fromCollection([2]), { uid: 'm' })).toThrow(/JOB_ALREADY_STARTED/);
    expect(() => job.start()).toThrow(/JOB_ALREADY_STARTED/);
  });
});
