import type { DataStream } from '../../api/data-stream.js';
import type { NexmarkEvent } from '../events.js';
import { bids } from './streams.js';

export interface Q0Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}

/** q0, pass-through: every bid, unchanged (measures the engine's own overhead). */
export function q0(events: DataStream<NexmarkEvent>): DataStream<Q0Row> {
  return bids(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }), { uid: 'q0' });
}
