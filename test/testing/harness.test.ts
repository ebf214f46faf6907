import { describe, expect, it } from 'vitest';
import { OutputTag, valueState, type KeyedProcessFunction, type ValueState } from '../../src/index.js';
import { JobHarness, OperatorHarness } from '../../src/testing/index.js';

interface Click {
  user: string;
  page: string;
}

/** Counts clicks per user; reports the count when the watermark passes the end of the click's second. */
function countPerSecond(): KeyedProcessFunction<string, Click, [string, number, number]> {
  let count!: ValueState<number>;
  return {
    open: (ctx) => {
      count = ctx.state(valueState<number>('count'));
    },
    processElement: (_click, ctx) => {
      count.update((count.value() ?? 0) + 1);
      ctx.timerService.registerEventTimeTimer(Math.floor(ctx.timestamp! / 1000) * 1000 + 999);
    },
    onTimer: (ts, ctx, out) => {
      out.collect([ctx.key, ts, count.value() ?? 0]);
      count.clear();
    },
  };
}

describe('OperatorHarness', () => {
  it('drives a keyed process function: records, watermarks, timers, state', () => {
    const h = OperatorHarness.keyedProcess(countPerSecond(), (c: Click) => c.user);
    h.processElement({ user: 'a', page: '/' }, 1000).processElement({ user: 'a', page: '/x' }, 1500).processElement({ user: 'b', page: '/' }, 1200);
    expect(h.state('a', valueState<number>('count')).value()).toBe(2);
    expect(h.timers().eventTime).toEqual([
      { key: 'a', timestamp: 1999 },
      { key: 'b', timestamp: 1999 },
    ]);
    h.processWatermark(1998);
    expect(h.values).toEqual([]);
    h.processWatermark(1999);
    expect(h.values).toEqual([
      ['a', 1999, 2],
      ['b', 1999, 1],
    ]);
    expect(h.output[0]!.timestamp).toBe(1999);
    expect(h.watermarks).toEqual([1998, 1999]);
    expect(h.state('a', valueState<number>('count')).value()).toBeUndefined();
  });

  it('fires processing-time timers when the manual clock moves, and collects side outputs', () => {
    const slow = new OutputTag<string>('slow');
    const h = OperatorHarness.keyedProcess<string, Click, string>(
      {
        processElement: (c, ctx) => {
          ctx.timerService.registerProcessingTimeTimer(ctx.currentProcessingTime() + 100);
          if (c.page === '/slow') ctx.output(slow, c.user);
        },
        onTimer: (ts, ctx, out) => out.collect(`${ctx.key}@${ts}:${ctx.timeDomain}`),
      },
      (c) => c.user,
      { startTime: 50 },
    );
    h.processElement({ user: 'a', page: '/slow' });
    h.advanceProcessingTime(99);
    expect(h.values).toEqual([]);
    h.advanceProcessingTime(1);
    expect(h.values).toEqual(['a@150:processing-time']);
    expect(h.sideOutput(slow)).toEqual(['a']);
  });

  it('throws the step error, or keeps a dead letter under the dead-letter policy', () => {
    const fn: KeyedProcessFunction<string, Click, string> = {
      processElement: (c) => {
        if (c.page === 'bad') throw new Error('boom');
      },
    };
    const failing = OperatorHarness.keyedProcess(fn, (c: Click) => c.user, { uid: 'strict' });
    expect(() => failing.processElement({ user: 'a', page: 'bad' })).toThrow(/step 'strict'.*boom.*"page":"bad"/s);
    const lenient = OperatorHarness.keyedProcess(fn, (c: Click) => c.user, { onError: 'dead-letter' });
    lenient.processElement({ user: 'a', page: 'bad' }).processElement({ user: 'b', page: 'ok' });
    expect(lenient.deadLetters.map((d) => d.record)).toEqual([{ user: 'a', page: 'bad' }]);
  });
});

describe('JobHarness', () => {
  it('runs a job under a manual clock, step by step', async () => {
    const h = new JobHarness();
    const clicks = h.input<Click>('clicks');
    const counts = h.output(clicks.stream.keyBy('user').process(countPerSecond(), { uid: 'count' }));
    h.start();
    clicks.push({ user: 'a', page: '/' }, 1000).push({ user: 'b', page: '/' }, 1100).push({ user: 'a', page: '/' }, 1900);
    await h.settle();
    expect(h.state('count', 'a', valueState<number>('count')).value()).toBe(2);
    expect(counts.values).toEqual([]);
    clicks.pushWatermark(1999);
    await h.settle();
    expect(counts.take()).toEqual([
      ['a', 1999, 2],
      ['b', 1999, 1],
    ]);
    clicks.push({ user: 'c', page: '/' }, 2500);
    await h.finish(); // the final watermark fires the last timer
    expect(counts.values).toEqual([['c', 2999, 1]]);
  });

  it('reports a failing job from settle()', async () => {
    const h = new JobHarness();
    const input = h.input<number>('numbers');
    h.output(
      input.stream.map((n) => {
        if (n === 3) throw new Error('three');
        return n;
      }, { uid: 'picky' }),
    );
    h.start();
    input.push(1).push(3);
    await expect(h.settle()).rejects.toThrow(/step 'picky'.*three.*on record 3/s);
  });
});
