/**
 * {{name}}: clicks per user in 10-second event-time windows, printed as JSON lines.
 *
 * `npm start` runs it with `sluice run src/job.ts` (dashboard and metrics on
 * http://127.0.0.1:8081) until Ctrl-C. The clicks are made up: one every 5 ms, whose event
 * time moves 100 ms per click, so a window of 10 s closes about twice a second. State is
 * checkpointed every 10 s under .sluice/checkpoints/{{name}}/, and a new run resumes there.
 *
 * `npm test` checks `clicksPerUser` with the test harness (test/job.test.ts).
 */
import { Job, WatermarkStrategy, count, generator, tumbling, type DataStream, type WindowResult } from 'sluice';

export interface Click {
  user: string;
  page: string;
  /** Event time: when the click happened (epoch ms). */
  at: number;
}

/** Counts each user's clicks per 10-second event-time window `[start, start + 10 s)`. */
export function clicksPerUser(clicks: DataStream<Click>): DataStream<WindowResult<string, number>> {
  return clicks.keyBy('user').window(tumbling('10s')).aggregate(count(), { uid: 'clicks-per-user' });
}

const USERS = ['ada', 'grace', 'linus', 'margaret'];
const START = Date.UTC(2025, 0, 1);

/** The job `sluice run` starts: made-up clicks into `clicksPerUser`, printed. Replace the source with yours. */
export default function job(): Job {
  const job = new Job({ name: '{{name}}', checkpoints: { interval: '10s' } });
  const clicks = job.source(
    generator<Click>({
      make: (i) => ({ user: USERS[i % USERS.length]!, page: i % 3 === 0 ? '/pricing' : '/', at: START + i * 100 }),
      ratePerSecond: 200,
    }),
    { uid: 'clicks', watermarks: WatermarkStrategy.forMonotonousTimestamps<Click>().withTimestampAssigner((c) => c.at) },
  );
  clicksPerUser(clicks).print();
  return job;
}
