import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expect } from 'vitest';
import { fixedDelay, type AsyncStepOptions } from '../../../src/index.js';
import { OperatorHarness } from '../../../src/testing/index.js';
import { checkProperty, propertyRuns } from '../../property.js';

const f = (n: number) => n * 3 + 1;

/** What happens after each batch: nothing, a checkpoint, or a crash back to the last checkpoint. */
type Event = 'none' | 'checkpoint' | 'crash';

interface Case {
  inputs: number[];
  /** Cuts of the input into batches (sizes 1…4, cycled). */
  batchSizes: number[];
  /** Delay of the k-th call (cycled), in ms of the manual clock. */
  delays: number[];
  /** Inputs whose first attempt fails (the retry answers). */
  failFirst: boolean[];
  events: Event[];
  mode: 'ordered' | 'unordered';
  capacity: number;
}

/**
 * Runs the async step over `inputs` as a job would, with a transactional sink: what the
 * step emitted counts once a checkpoint after it completes; a crash drops what came
 * since, restores the operator from the last checkpoint and replays the input from there.
 */
async function run(c: Case): Promise<number[]> {
  let callNo = 0;
  let h!: OperatorHarness<number, number>;
  const fn = (n: number, { attempt }: { attempt: number }) =>
    new Promise<number>((resolve, reject) => {
      const delay = c.delays[callNo++ % c.delays.length]!;
      const clock = h.clock;
      clock.schedule(clock.now() + delay, () => (attempt === 1 && c.failFirst[n % c.failFirst.length] ? reject(new Error('flaky')) : resolve(f(n))));
    });
  const options: AsyncStepOptions = { uid: 'prop', mode: c.mode, capacity: c.capacity, retry: fixedDelay(3, { maxAttempts: 2 }) };
  const fresh = (state?: unknown) => {
    h = OperatorHarness.asyncMap(fn, options);
    if (state !== undefined) h.initializeState(state);
    h.open();
  };
  /** Moves time until the operator no longer holds its task (and, with `all`, until nothing is in flight). */
  const drive = async (all: boolean) => {
    for (let guard = 0; guard < 10_000; guard++) {
      await h.settle();
      if (!h.blocked && (!all || h.clock.scheduledCount === 0)) return;
      h.advanceProcessingTime(1);
    }
    throw new Error('the operator never drained');
  };
  fresh();
  const committed: number[] = [];
  let saved: { state: unknown; position: number } = { state: undefined, position: 0 };
  let position = 0;
  let batch = 0;
  let crashes = 0;
  while (position < c.inputs.length) {
    const size = c.batchSizes[batch % c.batchSizes.length]!;
    const event = c.events[batch % c.events.length]!;
    batch++;
    const records = c.inputs.slice(position, position + size).map((v, i) => [v, position + i] as const);
    position += records.length;
    h.processBatch(records);
    await drive(false);
    if (event === 'checkpoint') {
      committed.push(...h.take());
      saved = { state: h.snapshot(), position };
    } else if (event === 'crash' && crashes < 3) {
      crashes++;
      h.take(); // never committed
      fresh(saved.state);
      position = saved.position;
    }
  }
  h.endInput();
  await drive(true);
  committed.push(...h.take());
  return committed;
}

describe('async operator: exactly-once against a plain map (property)', () => {
  it('for random inputs, delays, failures and checkpoint/crash points, the output is the map of the inputs, once each', async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.record({
          inputs: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }),
          batchSizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
          delays: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 8 }),
          failFirst: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
          events: fc.array(fc.constantFrom<Event>('none', 'none', 'checkpoint', 'crash'), { minLength: 1, maxLength: 6 }),
          mode: fc.constantFrom<'ordered' | 'unordered'>('ordered', 'unordered'),
          capacity: fc.integer({ min: 1, max: 5 }),
        }),
        async (c) => {
          const out = await run(c);
          const expected = c.inputs.map(f);
          if (c.mode === 'ordered') expect(out).toEqual(expected);
          else expect([...out].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
        },
      ),
      propertyRuns(60),
    );
  }, 120_000);
});
