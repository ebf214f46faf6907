import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../launch/job.js';
import { generator } from '../../connectors/generator/index.js';
import type { Sink, SinkWriter } from '../../connectors/sink.js';
import { testSinkContext } from '../connector-context.js';
import { vitest } from '../vitest.js';

/** What a sink case prepares: a sink over a fresh destination, and a way to read what it shows. */
export interface PreparedSink<T> {
  /** A sink over a fresh destination (unique names). */
  sink: Sink<T>;
  /** What the destination shows now (committed rows, messages, files), as JSON-comparable values. */
  read(): Promise<unknown[]>;
  /** Deletes the destination (a table, a topic, files); the suite calls it after its tests and ignores a failure. */
  cleanup?(): Promise<void>;
}

/** What {@link describeSink} needs to test a sink: how it keeps exactly-once, the records, and how to make a fresh destination. */
export interface SinkCase<T> {
  /**
   * `'transactional'`: nothing is visible before `commit`, and `recover` aborts what the
   * restored checkpoint does not hold. `'idempotent'`: writes may be visible at once, and
   * writing a record again leaves the destination as it was. `'at-least-once'` (a
   * stated weaker guarantee, e.g. a broker queue without duplicate detection): every
   * record shows, nothing else does, and a record written again may show twice.
   */
  kind: 'transactional' | 'idempotent' | 'at-least-once';
  /** The i-th record to write (JSON-comparable). */
  make(i: number): T;
  /** A fresh destination and a sink over it; called by each test that needs one. */
  prepare(): Promise<PreparedSink<T>>;
  /** What `read()` shows once `values` are written (default: the values). */
  view?(values: T[]): unknown[];
  /** Records per test (default 1000). */
  count?: number;
}

const sortedKeys = (vs: unknown[]): string[] => vs.map((v) => JSON.stringify(v)).sort();

/**
 * The contract every sink keeps, as one shared suite: two-phase commit (preCommit, commit
 * and its idempotence, recover of the restored transactions, abort of the others), and
 * exactly-once output (at-least-once for a sink that states only that: every record, and
 * nothing else) through a real job that fails once and restarts from its checkpoints.
 *
 * @example
 * describeSink('postgres', { kind: 'idempotent', make: (i) => ({ id: i }), prepare: async () => ({ sink, read }) });
 */
export function describeSink<T>(name: string, c: SinkCase<T>): void {
  const { afterAll, describe, expect, it } = vitest();
  const n = c.count ?? 1000;
  const values = Array.from({ length: n }, (_, i) => c.make(i));
  const view = c.view ?? ((vs: T[]) => vs);
  const cleanups: Array<() => Promise<void>> = [];
  const prepare = async () => {
    const p = await c.prepare();
    if (p.cleanup) cleanups.push(p.cleanup);
    return p;
  };
  const writer = async (sink: Sink<T>, recover: unknown[]): Promise<SinkWriter<T>> => {
    const w = sink.createWriter(testSinkContext({ uid: 'out', transactional: true }));
    await w.open?.();
    await w.recover?.(recover);
    return w;
  };
  const atLeastOnce = c.kind === 'at-least-once';
  const expectShows = async (p: PreparedSink<T>, written: T[]) => {
    const shown = await p.read();
    if (!atLeastOnce) return expect(sortedKeys(shown)).toEqual(sortedKeys(view(written)));
    expect([...new Set(sortedKeys(shown))]).toEqual([...new Set(sortedKeys(view(written)))]);
  };

  describe(`${name} keeps the sink contract (${c.kind})`, () => {
    afterAll(async () => {
      for (const f of cleanups) await f().catch(() => {});
    });

    it(`declares ${atLeastOnce ? 'at-least-once' : 'exactly-once'} and supports two-phase commit`, async () => {
      const p = await prepare();
      expect(p.sink.guarantees).toContain(atLeastOnce ? 'at-least-once' : 'exactly-once');
      const w = p.sink.createWriter(testSinkContext({ transactional: true }));
      expect(typeof w.preCommit).toBe('function');
      await w.close();
    });

    it('makes a pre-committed transaction visible on commit, once, however often it is committed', async () => {
      const p = await prepare();
      const a = values.slice(0, n / 2);
      const w = await writer(p.sink, []);
      await w.write(a, a.map(() => Number.NaN));
      const tx = await w.preCommit!(1);
      if (c.kind === 'transactional') expect(await p.read()).toEqual([]);
      await w.commit?.([tx]);
      await expectShows(p, a);
      await w.commit?.([tx]);
      await expectShows(p, a);
      await w.close();
    });

    it('after a crash, recover commits the restored transactions once and aborts (or harmlessly rewrites) the rest', async () => {
      const p = await prepare();
      const a = values.slice(0, n / 3);
      const b = values.slice(n / 3, (2 * n) / 3);
      const rest = values.slice((2 * n) / 3);
      const w1 = await writer(p.sink, []);
      await w1.write(a, a.map(() => Number.NaN));
      const txA = await w1.preCommit!(1);
      await w1.commit?.([txA]);
      await w1.write(b, b.map(() => Number.NaN));
      const txB = await w1.preCommit!(2);
      await w1.close(); // crash: checkpoint 2 completed, its commit never ran

      const w2 = await writer(p.sink, [txB]);
      await expectShows(p, [...a, ...b]);
      await w2.write(rest, rest.map(() => Number.NaN));
      await w2.preCommit!(3);
      await w2.close(); // crash: checkpoint 3 never completed

      const w3 = await writer(p.sink, [txB]); // restored from checkpoint 2 again
      if (c.kind === 'transactional') await expectShows(p, [...a, ...b]);
      await w3.write(rest, rest.map(() => Number.NaN)); // the replay after checkpoint 2
      const txC = await w3.preCommit!(3);
      await w3.commit?.([txC]);
      await w3.commit?.([txC]);
      await w3.close();
      await expectShows(p, values);
    });

    it(`writes ${atLeastOnce ? 'at least' : 'exactly'} once through a job that fails once and restarts from its checkpoints`, async () => {
      const p = await prepare();
      let failed = false;
      const job = new Job({
        name: `sink-suite-${name}`,
        batchSize: 32,
        checkpoints: { interval: '10ms', dir: join(mkdtempSync(join(tmpdir(), 'sluice-sink-suite-')), 'cp') },
        delivery: atLeastOnce ? 'at-least-once' : 'exactly-once',
        restart: { strategy: 'fixed-delay', attempts: 3, delay: 0 },
      });
      let restarts = 0;
      job
        .source(generator({ make: (i) => i, count: n }), { uid: 'n' })
        .map((i) => {
          // Slow enough that checkpoints usually complete before the failure, so that the
          // restart resumes from one (without one, it replays from the start).
          if (i % 10 === 0) for (const until = Date.now() + 2; Date.now() < until; );
          if (!failed && i === Math.floor(n * 0.7)) {
            failed = true;
            throw new Error('injected failure');
          }
          return c.make(i);
        })
        .sinkTo(p.sink, { uid: 'out' });
      await job.start({ onRestart: () => restarts++ }).done;
      expect(failed).toBe(true);
      expect(restarts).toBe(1);
      await expectShows(p, values);
    }, 60_000);
  });
}
