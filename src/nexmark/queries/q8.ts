import type { DataStream } from '../../api/data-stream.js';
import type { KeyedCoProcessFunction } from '../../core/functions.js';
import { mapState } from '../../state/descriptors.js';
import type { MapState } from '../../state/types.js';
import type { Auction, NexmarkEvent, Person } from '../events.js';
import { auctions, persons, windowStart } from './streams.js';

export interface Q8Row {
  id: number;
  name: string;
  windowStart: number;
}

const SIZE = 10_000;

/**
 * q8, monitor new users: people who registered and opened an auction in the same tumbling
 * 10 s window (one row per person and window). A window join keyed by person id: each
 * side remembers the windows it was seen in, and a timer at the window's last millisecond
 * emits the person when both sides were there, then forgets the window. Records later
 * than the watermark are dropped, as by a window join.
 */
export function q8(events: DataStream<NexmarkEvent>): DataStream<Q8Row> {
  return persons(events)
    .connect(auctions(events))
    .keyBy((p) => p.id, (a) => a.seller)
    .process(sameWindow(), { uid: 'q8' });
}

function sameWindow(): KeyedCoProcessFunction<number, Person, Auction, Q8Row> {
  let registered!: MapState<number, string>;
  let selling!: MapState<number, true>;
  return {
    open(ctx) {
      registered = ctx.state(mapState<number, string>('registered-in-window'));
      selling = ctx.state(mapState<number, true>('selling-in-window'));
    },
    processElement1(p, ctx, _out) {
      const start = windowStart(p.dateTime, SIZE);
      if (start + SIZE - 1 <= ctx.timerService.currentWatermark()) return; // late
      registered.put(start, p.name);
      ctx.timerService.registerEventTimeTimer(start + SIZE - 1);
    },
    processElement2(a, ctx, _out) {
      const start = windowStart(a.dateTime, SIZE);
      if (start + SIZE - 1 <= ctx.timerService.currentWatermark()) return; // late
      selling.put(start, true);
      ctx.timerService.registerEventTimeTimer(start + SIZE - 1);
    },
    onTimer(ts, ctx, out) {
      const start = ts - SIZE + 1;
      const name = registered.get(start);
      if (name !== undefined && selling.contains(start)) out.collect({ id: ctx.key, name, windowStart: start });
      registered.remove(start);
      selling.remove(start);
    },
  };
}
