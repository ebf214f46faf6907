/**
 * The demo job (`npm start`): an endless clickstream, page views per page in 10-second
 * event-time windows, printed live as each window closes. Clicks arrive up to 3 s out of
 * order; a few arrive later than that and are reported on a side output instead of being
 * dropped. Stop it with Ctrl-C.
 */
import {
  Job,
  OutputTag,
  WatermarkStrategy,
  generator,
  mapState,
  valueState,
  type KeyedProcessFunction,
  type MapState,
  type ValueState,
} from 'sluice';

export interface Click {
  user: string;
  page: string;
  /** Event time: when the click happened (epoch ms). */
  at: number;
}

const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup', '/checkout'];
const WINDOW_MS = 10_000;
const late = new OutputTag<Click>('late-clicks');

/** A deterministic pseudo-random number in [0, 1) for click i (the demo repeats itself run to run). */
function random(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

function makeClick(i: number): Click {
  // Most clicks are up to 3 s old when they arrive; one in 2000 is 6 s old (late).
  const delay = random(i, 1) < 0.0005 ? 6_000 : Math.floor(random(i, 2) * 3_000);
  return {
    user: `u${Math.floor(random(i, 3) ** 2 * 200)}`,
    page: PAGES[Math.floor(random(i, 4) ** 1.5 * PAGES.length)]!,
    at: Date.now() - delay,
  };
}

/** Views and distinct users per page in tumbling event-time windows, built from state and timers. */
function pageViews(): KeyedProcessFunction<string, Click, string> {
  let views!: MapState<number, number>; // window start -> views
  let users!: MapState<string, number>; // `${window start}|${user}` -> 1
  let closed!: ValueState<number>; // end of the last window reported
  return {
    open(ctx) {
      views = ctx.state(mapState<number, number>('views'));
      users = ctx.state(mapState<string, number>('users'));
      closed = ctx.state(valueState<number>('closed'));
    },
    processElement(click, ctx) {
      const start = Math.floor(click.at / WINDOW_MS) * WINDOW_MS;
      if (start + WINDOW_MS - 1 <= ctx.currentWatermark()) {
        ctx.output(late, click);
        return;
      }
      views.put(start, (views.get(start) ?? 0) + 1);
      users.put(`${start}|${click.user}`, 1);
      ctx.timerService.registerEventTimeTimer(start + WINDOW_MS - 1);
    },
    onTimer(ts, ctx, out) {
      const start = ts + 1 - WINDOW_MS;
      const n = views.get(start) ?? 0;
      const prefix = `${start}|`;
      const distinct = users.keys().filter((k) => k.startsWith(prefix));
      for (const k of distinct) users.remove(k);
      views.remove(start);
      closed.update(ts + 1);
      const window = `${time(start)}–${time(start + WINDOW_MS)}`;
      out.collect(`${window}  ${ctx.key.padEnd(10)} views ${String(n).padStart(5)}  users ${String(distinct.length).padStart(4)}`);
    },
  };
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

const job = new Job({ name: 'clickstream' });
const clicks = job.source(generator({ make: makeClick, ratePerSecond: 2_000 }), {
  uid: 'clicks',
  watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('3s').withTimestampAssigner((c) => c.at),
});
const perPage = clicks.keyBy('page').process(pageViews(), { uid: 'page-views' });
perPage.print();
perPage
  .sideOutput(late)
  .map((c) => `late click on ${c.page} from ${time(c.at)} (window already closed)`)
  .print();

export default job;
