/**
 * Card fraud with complex event processing: per card, three small transactions followed
 * by a large one within ten minutes (a card tested with small amounts, then emptied).
 * Transactions come in up to 30 s out of order; matching runs in event time, so they are
 * matched in the order they happened. Partial matches that run out of time are counted on
 * a side output. Run it with `npx sluice run examples/card-fraud.ts` (a bounded, seeded
 * stream of transactions; pass a count after `--` for another size).
 */
import { AfterMatchSkip, Job, OutputTag, Pattern, WatermarkStrategy, generator, type DataStream, type TimedOutMatch } from 'sluice';

export interface Txn {
  card: string;
  amount: number;
  /** Event time: when the card was used (epoch ms). */
  at: number;
}

export interface FraudAlert {
  card: string;
  /** The small amounts, in the order they happened. */
  small: number[];
  large: number;
  /** When the large transaction happened. */
  at: number;
}

/** Under 10 is small, 500 or more is large; a match never shares a transaction with the one before it. */
export const fraudPattern = Pattern.begin<Txn, 'small'>('small', AfterMatchSkip.skipPastLastEvent())
  .where((t) => t.amount < 10)
  .times(3)
  .followedBy('large')
  .where((t) => t.amount >= 500)
  .within('10m');

/** Where partial matches go when their ten minutes are over. */
export const unfinished = new OutputTag<TimedOutMatch<Txn, 'small' | 'large'>>('unfinished');

/** The alerts of a stream of transactions (with event timestamps): the step `card-fraud`. */
export function cardFraud(txns: DataStream<Txn>): DataStream<FraudAlert> {
  return txns
    .keyBy('card')
    .pattern(fraudPattern)
    .sideOutputTimedOut(unfinished)
    .select((m, ctx) => ({ card: ctx.key, small: m.small.map((t) => t.amount), large: m.large[0]!.amount, at: m.large[0]!.at }), { uid: 'card-fraud' });
}

/** A deterministic pseudo-random number in [0, 1) for transaction i (the run repeats itself). */
function random(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** Transaction i: one every 2 s over 50 cards, mostly medium amounts, some small, a few large, up to 30 s late. */
function makeTxn(i: number): Txn {
  const r = random(i, 1);
  const amount = r < 0.35 ? 1 + Math.floor(random(i, 2) * 9) : r < 0.4 ? 500 + Math.floor(random(i, 3) * 2000) : 10 + Math.floor(random(i, 4) * 490);
  return { card: `card-${Math.floor(random(i, 5) * 50)}`, amount, at: 1_700_000_000_000 + i * 2000 - Math.floor(random(i, 6) * 30_000) };
}

export default function cardFraudJob(args: string[]): Job {
  const count = Number(args[0] ?? 5000);
  const job = new Job({ name: 'card-fraud' });
  const txns = job.source(generator({ make: makeTxn, count }), {
    uid: 'txns',
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Txn>('30s').withTimestampAssigner((t) => t.at),
  });
  const alerts = cardFraud(txns);
  alerts.print();
  alerts
    .sideOutput(unfinished)
    .map((t) => `unfinished: ${t.match.small[0]?.card} had ${t.match.small.length} small transaction(s)`)
    .print();
  return job;
}
