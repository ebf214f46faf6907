import type { DataStream } from '../../api/data-stream.js';
import type { NexmarkEvent } from '../events.js';

export interface Q2Row {
  auction: number;
  price: number;
}

/** q2, selection: bids whose `auction mod 123 = 0`. */
export function q2(events: DataStream<NexmarkEvent>): DataStream<Q2Row> {
  return events.flatMap((e) => (e.type === 'bid' && e.auction % 123 === 0 ? [{ auction: e.auction, price: e.price }] : NONE), { uid: 'q2' });
}

const NONE: readonly Q2Row[] = Object.freeze([]);
