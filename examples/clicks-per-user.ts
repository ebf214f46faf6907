/**
 * The README's example job: clicks per user per minute of event time, from a JSONL file.
 * Run it with `npx sluice run examples/clicks-per-user.ts` (or pass another file after `--`).
 */
import { Job, WatermarkStrategy, fileSource, valueState, type ValueState } from 'sluice';

interface Click {
  user: string;
  page: string;
  at: number;
}

export default function clicksPerUser(args: string[]): Job {
  const file = args[0] ?? new URL('./data/clicks.jsonl', import.meta.url).pathname;
  const job = new Job({ name: 'clicks-per-user' });
  job
    .source(fileSource<Click>(file, { format: 'jsonl' }), {
      uid: 'clicks',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('5s').withTimestampAssigner((c) => c.at),
    })
    .keyBy('user')
    .process(
      (() => {
        let count!: ValueState<number>;
        return {
          open: (ctx) => {
            count = ctx.state(valueState<number>('count', { ttl: { ttl: '1h' } }));
          },
          processElement: (_click, ctx) => {
            count.update((count.value() ?? 0) + 1);
            ctx.timerService.registerEventTimeTimer(Math.floor(ctx.timestamp! / 60_000) * 60_000 + 59_999);
          },
          onTimer: (ts, ctx, out) => {
            out.collect({ user: ctx.key, minuteEnd: ts + 1, clicks: count.value() ?? 0 });
            count.clear();
          },
        };
      })(),
      { uid: 'count-per-user' },
    )
    .print();
  return job;
}
