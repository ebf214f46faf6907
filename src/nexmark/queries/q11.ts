import type { DataStream } from '../../api/data-stream.js';
import { count } from '../../window/aggregates/count.js';
import { session } from '../../window/assigners/session.js';
import type { Bid, NexmarkEvent } from '../events.js';
import { bids } from './streams.js';

export interface Q11Row {
  bidder: number;
  bidCount: number;
  windowStart: number;
  windowEnd: number;
}

/**
 * q11, user sessions: bids per bidder per session window with a 10 s gap (a bid at most
 * 10 s after the session's previous bid joins it; touching windows merge, as in Flink).
 * A session's end is its last bid's time plus the gap.
 */
export function q11(events: DataStream<NexmarkEvent>): DataStream<Q11Row> {
  return bids(events)
    .keyBy((b) => b.bidder)
    .window(session<Bid>('10s'))
    .aggregate(count<Bid>(), { uid: 'q11-sessions' })
    .map((r) => ({ bidder: r.key, bidCount: r.value, windowStart: r.start, windowEnd: r.end }), { uid: 'q11' });
}
