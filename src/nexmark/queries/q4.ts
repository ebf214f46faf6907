import type { DataStream } from '../../api/data-stream.js';
import type { KeyedCoProcessFunction, KeyedProcessFunction } from '../../core/functions.js';
import { listState, valueState } from '../../state/descriptors.js';
import type { ListState, ValueState } from '../../state/types.js';
import type { Auction, Bid, NexmarkEvent } from '../events.js';
import { auctions, bids } from './streams.js';

export interface Q4Row {
  category: number;
  avgPrice: number;
}

/** A change of one auction's winning price: `previous` undefined when it is the first. */
interface FinalPrice {
  category: number;
  final: number;
  previous: number | undefined;
}

interface OpenAuction {
  category: number;
  dateTime: number;
  expires: number;
}

interface PendingBid {
  price: number;
  dateTime: number;
}

/**
 * q4, average price per category: per auction the highest bid with
 * `auction.dateTime <= bid.dateTime <= auction.expires`, then per category the average of
 * those winning prices. An updating result: each change of an auction's winning price
 * emits the category's new average, so the last row per category is the current value.
 */
export function q4(events: DataStream<NexmarkEvent>): DataStream<Q4Row> {
  const finals = auctions(events)
    .connect(bids(events))
    .keyBy((a) => a.id, (b) => b.auction)
    .process(winningPrice(), { uid: 'q4-winning-price' });
  return finals.keyBy((f) => f.category).process(averagePerCategory(), { uid: 'q4' });
}

function winningPrice(): KeyedCoProcessFunction<number, Auction, Bid, FinalPrice> {
  let auction!: ValueState<OpenAuction>;
  let best!: ValueState<number>;
  let early!: ListState<PendingBid>;
  return {
    open(ctx) {
      auction = ctx.state(valueState<OpenAuction>('auction'));
      best = ctx.state(valueState<number>('winning-price'));
      early = ctx.state(listState<PendingBid>('bids-before-auction'));
    },
    processElement1(a, _ctx, out) {
      const open = { category: a.category, dateTime: a.dateTime, expires: a.expires };
      auction.update(open);
      let max: number | undefined;
      for (const b of early.get()) {
        if (b.dateTime >= open.dateTime && b.dateTime <= open.expires && (max === undefined || b.price > max)) max = b.price;
      }
      early.clear();
      if (max !== undefined) {
        best.update(max);
        out.collect({ category: open.category, final: max, previous: undefined });
      }
    },
    processElement2(b, _ctx, out) {
      const a = auction.value();
      if (a === undefined) {
        early.add({ price: b.price, dateTime: b.dateTime });
        return;
      }
      if (b.dateTime < a.dateTime || b.dateTime > a.expires) return;
      const previous = best.value();
      if (previous !== undefined && b.price <= previous) return;
      best.update(b.price);
      out.collect({ category: a.category, final: b.price, previous });
    },
  };
}

function averagePerCategory(): KeyedProcessFunction<number, FinalPrice, Q4Row> {
  let totals!: ValueState<{ sum: number; auctions: number }>;
  return {
    open(ctx) {
      totals = ctx.state(valueState<{ sum: number; auctions: number }>('totals'));
    },
    processElement(f, ctx, out) {
      const t = totals.value() ?? { sum: 0, auctions: 0 };
      const next =
        f.previous === undefined ? { sum: t.sum + f.final, auctions: t.auctions + 1 } : { sum: t.sum + f.final - f.previous, auctions: t.auctions };
      totals.update(next);
      out.collect({ category: ctx.key, avgPrice: next.sum / next.auctions });
    },
  };
}
