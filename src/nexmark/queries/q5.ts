import type { DataStream } from '../../api/data-stream.js';
import type { KeyedProcessFunction } from '../../core/functions.js';
import { valueState } from '../../state/descriptors.js';
import type { ValueState } from '../../state/types.js';
import { count } from '../../window/aggregates/count.js';
import { sliding } from '../../window/assigners/sliding.js';
import type { WindowResult } from '../../window/window-function.js';
import type { NexmarkEvent } from '../events.js';
import { bids } from './streams.js';

export interface Q5Row {
  auction: number;
  num: number;
  windowStart: number;
  windowEnd: number;
}

/**
 * q5, hot items: in each sliding window of 10 s sliding by 2 s, the auction(s) with the
 * most bids (ties: all of them). Bids are counted per auction and window; the counts are
 * then keyed by window end, where a timer at the window's last millisecond (the
 * timestamp of its counts) emits the auctions with the highest count.
 */
export function q5(events: DataStream<NexmarkEvent>): DataStream<Q5Row> {
  // Only the auction id goes on (the timestamp travels with it): the count needs nothing
  // else, and across threads a number crosses as one float64 where a bid is seven fields
  // and three strings. Flink's planner prunes the same columns before its shuffle.
  return bids(events)
    .map((b) => b.auction)
    .keyBy((auction) => auction)
    .window(sliding<number>('10s', '2s'))
    .aggregate(count<number>(), { uid: 'q5-bids-per-auction' })
    .keyBy((r) => r.end)
    .process(hottest(), { uid: 'q5' });
}

interface Leaders {
  num: number;
  start: number;
  auctions: number[];
}

function hottest(): KeyedProcessFunction<number, WindowResult<number, number>, Q5Row> {
  let leaders!: ValueState<Leaders>;
  return {
    open(ctx) {
      leaders = ctx.state(valueState<Leaders>('leaders'));
    },
    processElement(r, ctx, out) {
      const l = leaders.value();
      if (l === undefined) {
        leaders.update({ num: r.value, start: r.start, auctions: [r.key] });
        ctx.timerService.registerEventTimeTimer(r.end - 1);
      } else if (r.value > l.num) {
        leaders.update({ num: r.value, start: r.start, auctions: [r.key] });
      } else if (r.value === l.num) {
        l.auctions.push(r.key);
        leaders.update(l);
      }
    },
    onTimer(_ts, ctx, out) {
      const l = leaders.value();
      if (l !== undefined) for (const auction of l.auctions) out.collect({ auction, num: l.num, windowStart: l.start, windowEnd: ctx.key });
      leaders.clear();
    },
  };
}
