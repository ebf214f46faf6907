/**
 * The record shapes of the exchange benchmark, made once in the producing thread and
 * sent round and round: Nexmark bids (seven fields, three of them strings, ~150 bytes),
 * clicks (`{ user, at }`, two integers: the records of `bench/jobs/keyed-aggregation.ts`)
 * and plain numbers (prices with cents: doubles, the worst case for a compact encoding).
 */
import type { Batch } from '../../src/runtime/batch.js';
import { NexmarkGenerator } from '../../src/nexmark/generator.js';

/** A Nexmark bid without its `type` tag, as the exchange benchmark sends it. */
export interface BidRecord {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

/** A click of `bench/jobs/keyed-aggregation.ts`. */
export interface ClickRecord {
  user: number;
  at: number;
}

export type Shape = 'bids' | 'clicks' | 'numbers';

/** `count` distinct batches of `size` records of a shape. */
export function makeBatches(shape: Shape, count: number, size: number): Batch<unknown>[] {
  const out: Batch<unknown>[] = [];
  if (shape === 'bids') {
    const gen = new NexmarkGenerator();
    let n = 0;
    for (let b = 0; b < count; b++) {
      const values: BidRecord[] = [];
      const timestamps: number[] = [];
      while (values.length < size) {
        const e = gen.event(n++);
        if (e.type !== 'bid') continue;
        values.push({ auction: e.auction, bidder: e.bidder, price: e.price, channel: e.channel, url: e.url, dateTime: e.dateTime, extra: e.extra });
        timestamps.push(e.dateTime);
      }
      out.push({ values, timestamps });
    }
  } else if (shape === 'clicks') {
    // as the keyed aggregation's generator makes them: 10,000 users, 1 ms per 100 events
    for (let b = 0, i = 0; b < count; b++) {
      const values: ClickRecord[] = [];
      const timestamps: number[] = [];
      for (let k = 0; k < size; k++, i++) {
        values.push({ user: (i * 2654435761) % 10_000, at: Math.floor(i / 100) });
        timestamps.push(Math.floor(i / 100));
      }
      out.push({ values, timestamps });
    }
  } else {
    let x = 42;
    for (let b = 0; b < count; b++) {
      const values: number[] = [];
      const timestamps: number[] = [];
      for (let i = 0; i < size; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        values.push((x % 1_000_000) / 100);
        timestamps.push(1_700_000_000_000 + b * size + i);
      }
      out.push({ values, timestamps });
    }
  }
  return out;
}

/**
 * What the consumer computes from each received record, so that it really reads the decoded
 * values (and the runs can be checked against each other): the price of a bid, the user
 * of a click, the number itself.
 */
export function checksum(values: readonly unknown[]): number {
  let s = 0;
  const n = values.length;
  if (n > 0 && typeof values[0] === 'number') for (let i = 0; i < n; i++) s += values[i] as number;
  else if (n > 0 && 'user' in (values[0] as object)) for (let i = 0; i < n; i++) s += (values[i] as ClickRecord).user;
  else for (let i = 0; i < n; i++) s += (values[i] as BidRecord).price;
  return s;
}

/**
 * A Float64Array as a number[] (what a Batch holds). A loop into `new Array(n)` takes
 * ~1.6 µs for 1024 numbers here; `Array.from` takes ~24 µs, which alone would cap a
 * channel near 40M events/s and hid the encodings' differences in the first runs.
 */
export function toNumbers(f64: Float64Array): number[] {
  const n = f64.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = f64[i]!;
  return out;
}
