import type { DataStream } from '../../api/data-stream.js';
import type { NexmarkEvent } from '../events.js';
import type { Q0Row } from './q0.js';
import { bids } from './streams.js';

export type Q1Row = Q0Row;

/** q1, currency conversion: every bid with its price in euros, `price * 0.908`. */
export function q1(events: DataStream<NexmarkEvent>): DataStream<Q1Row> {
  return bids(events).map(
    (b) => ({ auction: b.auction, bidder: b.bidder, price: b.price * 0.908, dateTime: b.dateTime, extra: b.extra }),
    { uid: 'q1' },
  );
}
