import type { DataStream } from '../../api/data-stream.js';
import type { Auction, Bid, NexmarkEvent, Person } from '../events.js';

/** The bids of the event stream. */
export function bids(events: DataStream<NexmarkEvent>): DataStream<Bid> {
  return events.filter((e) => e.type === 'bid', { uid: 'bids' }) as DataStream<unknown> as DataStream<Bid>;
}

/** The auctions of the event stream. */
export function auctions(events: DataStream<NexmarkEvent>): DataStream<Auction> {
  return events.filter((e) => e.type === 'auction', { uid: 'auctions' }) as DataStream<unknown> as DataStream<Auction>;
}

/** The people of the event stream. */
export function persons(events: DataStream<NexmarkEvent>): DataStream<Person> {
  return events.filter((e) => e.type === 'person', { uid: 'persons' }) as DataStream<unknown> as DataStream<Person>;
}

/** Start of the epoch-aligned window of `size` ms holding `t`. */
export function windowStart(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}
