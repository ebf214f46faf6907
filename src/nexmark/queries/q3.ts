import type { DataStream } from '../../api/data-stream.js';
import type { KeyedCoProcessFunction } from '../../core/functions.js';
import { listState, valueState } from '../../state/descriptors.js';
import type { ListState, ValueState } from '../../state/types.js';
import type { Auction, NexmarkEvent, Person } from '../events.js';
import { auctions, persons } from './streams.js';

export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
}

type Seller = Pick<Person, 'name' | 'city' | 'state'>;

/**
 * q3, local item suggestion: auctions in category 10 joined with their seller, where the
 * seller lives in OR, ID or CA. An unbounded join (no window), keyed by person id: the
 * person is kept; auctions that come before their seller (the generator picks sellers up
 * to 10 ids ahead) wait for it.
 */
export function q3(events: DataStream<NexmarkEvent>): DataStream<Q3Row> {
  const sellers = persons(events).filter((p) => p.state === 'OR' || p.state === 'ID' || p.state === 'CA', { uid: 'q3-sellers' });
  const items = auctions(events).filter((a) => a.category === 10, { uid: 'q3-category-10' });
  return sellers.connect(items).keyBy((p) => p.id, (a) => a.seller).process(join(), { uid: 'q3' });
}

function join(): KeyedCoProcessFunction<number, Person, Auction, Q3Row> {
  let seller!: ValueState<Seller>;
  let waiting!: ListState<number>;
  return {
    open(ctx) {
      seller = ctx.state(valueState<Seller>('seller'));
      waiting = ctx.state(listState<number>('waiting-auctions'));
    },
    processElement1(p, _ctx, out) {
      seller.update({ name: p.name, city: p.city, state: p.state });
      for (const id of waiting.get()) out.collect({ name: p.name, city: p.city, state: p.state, id });
      waiting.clear();
    },
    processElement2(a, _ctx, out) {
      const s = seller.value();
      if (s === undefined) waiting.add(a.id);
      else out.collect({ name: s.name, city: s.city, state: s.state, id: a.id });
    },
  };
}
