import { generator } from '../connectors/generator/index.js';
import type { Source, SourceBatch, SourceReader } from '../connectors/source.js';
import { SluiceError } from '../errors/index.js';
import type { NexmarkEvent } from './events.js';
import { NexmarkGenerator, type GeneratorConfig } from './generator.js';

export interface NexmarkSourceOptions extends Partial<GeneratorConfig> {
  /** How many events (event numbers [first, first + events)). */
  readonly events: number;
  /** The first event number. Default 0 (a later start makes a split of the same stream). */
  readonly first?: number;
  /**
   * Paces the events in wall-clock time at this many per second (the connectors'
   * generator schedule). Omitted: as fast as the job takes them.
   */
  readonly ratePerSecond?: number;
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
    // Paced without a base time: event time starts when the first event is made (the first
    // poll), so that an event's dateTime is when the pacing makes it due, and latency
    // measured from dateTime holds no start-up delay.
    let timed: NexmarkGenerator | undefined = config.baseTime === undefined ? undefined : gen;
    const paced = generator<NexmarkEvent>({
      make: (i) => (timed ??= new NexmarkGenerator({ ...config, baseTime: Date.now() })).event(first + i),
      count: events,
      ratePerSecond,
      timestamp: (e) => e.dateTime,
    });
    return { kind: 'nexmark', bounded: true, describe, createReader: (ctx) => paced.createReader(ctx) };
  }
  return {
    kind: 'nexmark',
    bounded: true,
    describe,
    createReader(ctx): SourceReader<NexmarkEvent> {
      const batchSize = Math.max(1, ctx.maxBatchSize);
      const end = first + events;
      let next = first;
      return {
        async poll(): Promise<SourceBatch<NexmarkEvent>> {
          const n = Math.min(batchSize, end - next);
          if (n <= 0) return { values: [], done: true };
          const values = new Array<NexmarkEvent>(n);
          const timestamps = new Array<number>(n);
          gen.fill(next, n, values, timestamps);
          next += n;
          return next >= end ? { values, timestamps, done: true } : { values, timestamps };
        },
        async close() {},
      };
    },
  };
}
