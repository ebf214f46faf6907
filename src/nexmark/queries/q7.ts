import type { DataStream } from '../../api/data-stream.js';
import type { AggregateFunction } from '../../state/types.js';
import { tumbling } from '../../window/assigners/tumbling.js';
import type { Bid, NexmarkEvent } from '../events.js';
import { bids } from './streams.js';

export interface Q7Row {
  auction: number;
  price: number;
  bidder: number;
  dateTime: number;
  extra: string;
  windowEnd: number;
}

/** The highest price so far and the bids at it. */
interface Highest {
  price: number;
  bids: Bid[];
}

/**
 * q7, highest bid: in each tumbling 10 s window, every bid whose price equals the
 * window's maximum. Incremental: a window keeps its maximum and the bids at it, not all
 * of its bids.
 */
export function q7(events: DataStream<NexmarkEvent>): DataStream<Q7Row> {
  return bids(events)
    .windowAll(tumbling<Bid>('10s'))
    .aggregate(highest, { uid: 'q7-highest' })
    .flatMap(
      (w) =>
        w.value.bids.map((b) => ({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra, windowEnd: w.end })),
      { uid: 'q7' },
    );
}

const highest: AggregateFunction<Bid, Highest, Highest> = {
  createAccumulator: () => ({ price: Number.NEGATIVE_INFINITY, bids: [] }),
  add(b, acc) {
    if (b.price > acc.price) return { price: b.price, bids: [b] };
    if (b.price === acc.price) acc.bids.push(b);
    return acc;
  },
  getResult: (acc) => acc,
  merge(a, b) {
    if (a.price !== b.price) return a.price > b.price ? a : b;
    return { price: a.price, bids: [...a.bids, ...b.bids] };
  },
};
