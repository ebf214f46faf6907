import { wait } from '../connectors/shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../connectors/source.js';
import { SluiceError } from '../errors/index.js';
import type { NexmarkEvent } from './events.js';
import { NexmarkGenerator, type GeneratorConfig } from './generator.js';

export interface NexmarkSourceOptions extends Partial<GeneratorConfig> {
  /** How many events (event numbers [first, first + events)). */
  readonly events: number;
  /** The first event number. Default 0 (a later start makes a split of the same stream). */
  readonly first?: number;
  /**
   * Paces the events in wall-clock time at this many per second: an event is handed out
   * when the clock reaches its dateTime (set `rate` to the same figure, as `sluice nexmark
   * run --rate` does). Omitted: as fast as the job takes them.
   */
  readonly ratePerSecond?: number;
}

/** Events a paced reader makes and drops before its clock starts (~20-40 ms of CPU): see `pacedReader`. */
const WARM_UP_EVENTS = 100_000;

/**
 * A paced reader: an event is handed out once the wall clock reaches its dateTime, so
 * that dateTime is its generation time and latency is measured from it. Without a base
 * time, event time starts at the first poll. A stall is caught up in full batches rather
 * than forgiven: the records it delayed show their real latency.
 *
 * Events are made a batch ahead with `fill` (as the unpaced reader makes them), and each
 * poll hands out the due ones from the front, in event-number order: the first event not
 * yet due holds back those after it, as with disorder (g > 1) it must. A poll that finds
 * the whole made batch due hands it on as it is, without copying.
 *
 * Opening the reader makes and drops `WARM_UP_EVENTS` events before the clock starts, so
 * that the generator is compiled when the first event is due. The generator stands for
 * the world outside the job that makes the events; measured cold, the first ~100 ms of a
 * run also timed its JIT (0.6-1% of a 10 s q1 run's results over 10 ms at 2.3M/s on 2
 * cores, 0-0.3% with the warm-up). The events and the clock are untouched (the clock
 * starts at the first poll: `source.test.ts`), and no result is left out of the
 * latencies: the job itself (watermarks, the query, the sink) still starts cold.
 */
function pacedReader(ctx: SourceContext, config: Partial<GeneratorConfig>, gen: NexmarkGenerator, first: number, events: number): SourceReader<NexmarkEvent> {
  const end = first + events;
  const batchSize = Math.max(1, ctx.maxBatchSize);
  let timed: NexmarkGenerator | undefined;
  let made: NexmarkEvent[] = []; // events [next - at, next - at + made.length), made, due from index `at`
  let stamps: number[] = [];
  let at = 0;
  let next = first; // the first event not handed out
  return {
    async open() {
      const values = new Array<NexmarkEvent>(batchSize);
      const timestamps = new Array<number>(batchSize);
      for (let n = 0; n < WARM_UP_EVENTS; n += batchSize) gen.fill(first + n, batchSize, values, timestamps);
    },
    async poll(): Promise<SourceBatch<NexmarkEvent>> {
      timed ??= config.baseTime === undefined ? new NexmarkGenerator({ ...config, baseTime: ctx.clock.now() }) : gen;
      if (next >= end) return { values: [], timestamps: [], done: true };
      if (at === made.length) {
        const n = Math.min(batchSize, end - next);
        made = new Array<NexmarkEvent>(n);
        stamps = new Array<number>(n);
        timed.fill(next, n, made, stamps);
        at = 0;
      }
      let now = ctx.clock.now();
      if (stamps[at]! > now) {
        const outcome = await wait(ctx.clock, Math.min(stamps[at]! - now, Math.max(1, ctx.maxPollWaitMs)), ctx.signal);
        now = ctx.clock.now();
        // aborted, or waited the longest a poll may: hand back nothing now
        if (outcome === 'aborted' || stamps[at]! > now) return { values: [], timestamps: [] };
      }
      let due = at + 1;
      while (due < made.length && stamps[due]! <= now) due++;
      const whole = at === 0 && due === made.length;
      const values = whole ? made : made.slice(at, due);
      const timestamps = whole ? stamps : stamps.slice(at, due);
      next += due - at;
      at = due;
      return next >= end ? { values, timestamps, done: true } : { values, timestamps };
    },
    async close() {},
  };
}

/**
 * The Nexmark events as a bounded Sluice source: batches of `ctx.maxBatchSize`, each
 * event's `dateTime` carried as its timestamp (`SourceBatch.timestamps`).
 *
 * @example
 * job.source(nexmarkSource({ events: 1_000_000, seed: 1, rate: 100_000 }), { uid: 'nexmark' })
 */
export function nexmarkSource(options: NexmarkSourceOptions): Source<NexmarkEvent> {
  const { events, first = 0, ratePerSecond, ...config } = options;
  if (!Number.isSafeInteger(events) || events < 0) {
    throw new SluiceError('INVALID_ARGUMENT', `nexmarkSource: events must be a non-negative integer, got ${String(events)}`);
  }
  if (!Number.isSafeInteger(first) || first < 0) {
    throw new SluiceError('INVALID_ARGUMENT', `nexmarkSource: first must be a non-negative integer, got ${String(first)}`);
  }
  const gen = new NexmarkGenerator(config);
  const c = gen.config;
  const describe = () =>
    `nexmark events [${first}, ${first + events}) seed ${c.seed}, rate ${c.rate}/s of event time, ooo ${c.ooo}` +
    (ratePerSecond === undefined ? '' : `, paced at ${ratePerSecond}/s`);
  if (ratePerSecond !== undefined) {
    return { kind: 'nexmark', bounded: true, describe, createReader: (ctx) => pacedReader(ctx, config, gen, first, events) };
  }
  return {
    kind: 'nexmark',
    bounded: true,
    parallel: true,
    describe,
    createReader(ctx): SourceReader<NexmarkEvent> {
      // In parallel, the events are dealt out in blocks of a batch: reader i of p makes
      // blocks i, i + p, … so that all readers move through event time together.
      const block = Math.max(1, ctx.maxBatchSize);
      const { index, parallelism } = ctx.subtask;
      const end = first + events;
      let b = index;
      return {
        async poll(): Promise<SourceBatch<NexmarkEvent>> {
          const from = first + b * block;
          const n = Math.min(block, end - from);
          if (n <= 0) return { values: [], done: true };
          const values = new Array<NexmarkEvent>(n);
          const timestamps = new Array<number>(n);
          gen.fill(from, n, values, timestamps);
          b += parallelism;
          return first + b * block >= end ? { values, timestamps, done: true } : { values, timestamps };
        },
        async close() {},
      };
    },
  };
}
