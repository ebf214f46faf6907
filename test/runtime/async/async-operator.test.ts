import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../../src/testing/index.js';
import { SluiceError, exponentialBackoff, fixedDelay } from '../../../src/index.js';
import { ManualService } from './calls.js';

const double = (uid: string, mode: 'ordered' | 'unordered', capacity = 10) => {
  const service = new ManualService<number, number>();
  const h = OperatorHarness.asyncMap(service.fn, { uid, mode, capacity });
  return { service, h };
};

describe('async operator: result modes', () => {
  it('ordered: results leave in input order whatever order the answers come in', async () => {
    const { service, h } = double('ordered', 'ordered');
    h.processBatch([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    service.callFor(3).resolve(30);
    service.callFor(2).resolve(20);
    await h.settle();
    expect(h.values).toEqual([]);
    service.callFor(1).resolve(10);
    await h.settle();
    expect(h.output).toEqual([
      { value: 10, timestamp: 10 },
      { value: 20, timestamp: 20 },
      { value: 30, timestamp: 30 },
    ]);
  });

  it('unordered: a result leaves as soon as it is there', async () => {
    const { service, h } = double('unordered', 'unordered');
    h.processBatch([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    service.callFor(3).resolve(30);
    await h.settle();
    expect(h.values).toEqual([30]);
    service.callFor(1).resolve(10);
    service.callFor(2).resolve(20);
    await h.settle();
    expect(h.values).toEqual([30, 10, 20]);
  });

  it('unordered: a watermark is a barrier results do not cross', async () => {
    const { service, h } = double('barrier', 'unordered');
    h.processBatch([
      [1, 10],
      [2, 20],
    ]);
    h.processWatermark(25);
    h.processBatch([[3, 30]]);
    expect(h.watermarks).toEqual([]);
    // 3 is ready first but came after the watermark: it waits.
    service.callFor(3).resolve(30);
    service.callFor(2).resolve(20);
    await h.settle();
    expect(h.values).toEqual([20]);
    expect(h.watermarks).toEqual([]);
    service.callFor(1).resolve(10);
    await h.settle();
    expect(h.values).toEqual([20, 10, 30]);
    expect(h.watermarks).toEqual([25]);
  });

  it('ordered: a watermark leaves after the records before it', async () => {
    const { service, h } = double('ordered-wm', 'ordered');
    h.processElement(1, 10);
    h.processWatermark(15);
    h.processElement(2, 20);
    service.callFor(2).resolve(20);
    await h.settle();
    expect(h.watermarks).toEqual([]);
    service.callFor(1).resolve(10);
    await h.settle();
    expect(h.values).toEqual([10, 20]);
    expect(h.watermarks).toEqual([15]);
  });

  it('a watermark with nothing in flight passes at once', () => {
    const { h } = double('idle-wm', 'unordered');
    h.processWatermark(5);
    expect(h.watermarks).toEqual([5]);
  });

  it('asyncProcess gives any number of results per record', async () => {
    const h = OperatorHarness.asyncProcess(async (n: number) => Array.from({ length: n }, (_, i) => `${n}.${i}`), { uid: 'fan-out' });
    h.processBatch([
      [0, 1],
      [2, 2],
      [1, 3],
    ]);
    await h.settle();
    expect(h.values).toEqual(['2.0', '2.1', '1.0']);
  });
});

describe('async operator: per-key order on a keyed stream', () => {
  it("a key's calls run one at a time, in order; other keys run beside them, and unordered results of a key keep their order", async () => {
    const service = new ManualService<string, string>();
    const h = OperatorHarness.keyedAsyncMap(service.fn, (v: string) => v[0]!, { uid: 'per-key', mode: 'unordered', perKeyOrder: true });
    h.processBatch([
      ['a1', 1],
      ['a2', 2],
      ['b1', 3],
      ['a3', 4],
    ]);
    expect(service.calls.map((c) => c.value)).toEqual(['a1', 'b1']);
    service.callFor('b1').resolve('B1');
    service.callFor('a1').resolve('A1');
    await h.settle();
    expect(service.calls.map((c) => c.value)).toEqual(['a1', 'b1', 'a2']);
    service.callFor('a2').resolve('A2');
    await h.settle();
    service.callFor('a3').resolve('A3');
    await h.settle();
    expect(h.values).toEqual(['B1', 'A1', 'A2', 'A3']);
  });

  it('perKeyOrder on a stream without keys is refused when the job is built', () => {
    expect(() => OperatorHarness.asyncMap(async (v: number) => v, { uid: 'no-keys', perKeyOrder: true })).toThrow(/perKeyOrder needs a keyed stream/);
  });
});

describe('async operator: capacity is backpressure', () => {
  it('calls at most `capacity` records at once and holds the task while full', async () => {
    const { service, h } = double('capacity', 'unordered', 2);
    h.processBatch([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(service.calls.map((c) => c.value)).toEqual([1, 2]);
    expect(h.blocked).toBe(true);
    service.callFor(2).resolve(2);
    await h.settle();
    expect(service.calls.map((c) => c.value)).toEqual([1, 2, 3]);
    expect(h.blocked).toBe(true);
    service.callFor(1).resolve(1);
    await h.settle();
    expect(service.calls.map((c) => c.value)).toEqual([1, 2, 3, 4]);
    expect(h.blocked).toBe(false);
  });

  it('ordered: finished results waiting behind a slow record count against capacity', async () => {
    const { service, h } = double('capacity-ordered', 'ordered', 2);
    h.processBatch([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    service.callFor(2).resolve(2);
    await h.settle();
    expect(service.calls.map((c) => c.value)).toEqual([1, 2]);
    expect(h.blocked).toBe(true);
  });

  it('the end of input right after a batch that filled the queue (a chained source) waits for all of it', async () => {
    const { service, h } = double('end-full', 'unordered', 1);
    h.processBatch([
      [1, 1],
      [2, 2],
    ]);
    h.endInput();
    service.callFor(1).resolve(1);
    await h.settle();
    expect(h.blocked).toBe(true);
    service.callFor(2).resolve(2);
    await h.settle();
    expect(h.values).toEqual([1, 2]);
    expect(h.blocked).toBe(false);
  });

  it('the end of input waits for every call, then ends the output', async () => {
    const { service, h } = double('end', 'ordered');
    h.processElement(1, 1);
    h.endInput();
    expect(h.blocked).toBe(true);
    service.callFor(1).resolve(1);
    await h.settle();
    expect(h.values).toEqual([1]);
    expect(h.blocked).toBe(false);
  });
});

describe('async operator: timeouts and retries', () => {
  it('an attempt that does not answer in time fails with ASYNC_TIMEOUT naming the step, and its signal aborts', async () => {
    const service = new ManualService<number, number>();
    const h = OperatorHarness.asyncMap(service.fn, { uid: 'slow', timeout: 100 });
    h.processElement(1, 1);
    h.advanceProcessingTime(99);
    expect(service.calls[0]!.context.signal.aborted).toBe(false);
    let error: unknown;
    try {
      h.advanceProcessingTime(1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('ASYNC_TIMEOUT');
    expect((error as SluiceError).message).toContain("step 'slow'");
    expect(service.calls[0]!.context.signal.aborted).toBe(true);
    // A late answer changes nothing.
    service.calls[0]!.resolve(1);
    await h.settle();
    expect(h.values).toEqual([]);
  });

  it('a timed-out attempt is retried after the policy pause; the retry answers', async () => {
    const service = new ManualService<number, number>();
    const h = OperatorHarness.asyncMap(service.fn, { uid: 'retry-timeout', timeout: 100, retry: fixedDelay(50, { maxAttempts: 2 }) });
    h.processElement(7, 1);
    h.advanceProcessingTime(100);
    expect(service.calls).toHaveLength(1);
    h.advanceProcessingTime(49);
    expect(service.calls).toHaveLength(1);
    h.advanceProcessingTime(1);
    expect(service.calls.map((c) => c.context.attempt)).toEqual([1, 2]);
    service.calls[0]!.resolve(-1); // the first attempt's late answer is ignored
    service.calls[1]!.resolve(14);
    await h.settle();
    expect(h.values).toEqual([14]);
  });

  it('exponential backoff: pauses grow by the multiplier up to max, with jitter from the given random', async () => {
    const attempts: number[] = [];
    const h = OperatorHarness.asyncMap(
      async (_: number, { attempt }) => {
        attempts.push(attempt);
        throw new Error('down');
      },
      { uid: 'backoff', retry: exponentialBackoff({ initial: 100, max: 300, multiplier: 2, maxAttempts: 5, jitter: 0.5, random: () => 1 - 1e-9 }) },
      { onError: 'dead-letter' },
    );
    h.processElement(1, 1);
    await h.settle();
    expect(attempts).toEqual([1]);
    const at = (ms: number) => h.advanceProcessingTime(ms).settle();
    await at(99);
    expect(attempts).toEqual([1]);
    await at(1); // 100
    expect(attempts).toEqual([1, 2]);
    await at(199);
    expect(attempts).toEqual([1, 2]);
    await at(1); // 200
    expect(attempts).toEqual([1, 2, 3]);
    await at(300); // capped at 300
    expect(attempts).toEqual([1, 2, 3, 4]);
    await at(300);
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(h.deadLetters).toHaveLength(1);
    expect(h.deadLetters[0]!.error.code).toBe('ASYNC_RETRIES_EXHAUSTED');
    expect(h.deadLetters[0]!.error.message).toContain('failed 5 attempts');
  });

  it('retryOn refuses an error: no retry, the record fails at once', async () => {
    const calls: number[] = [];
    const h = OperatorHarness.asyncMap(
      async (n: number) => {
        calls.push(n);
        throw new TypeError('bad input');
      },
      { uid: 'no-retry', retry: fixedDelay(10, { maxAttempts: 3, retryOn: (e) => !(e instanceof TypeError) }) },
    );
    h.processElement(1, 1);
    await expect(h.settle()).rejects.toThrow(/step 'no-retry'.*asyncMap function threw TypeError: bad input/);
    expect(calls).toEqual([1]);
  });

  it('retryOnResult polls until a result is good; after the last attempt the result stands', async () => {
    let answers = [null, null, 'ready'];
    const h = OperatorHarness.asyncMap(async () => answers.shift() ?? null, { uid: 'poll', retry: fixedDelay(10, { maxAttempts: 3, retryOnResult: (r) => r === null }) });
    h.processElement(1, 1);
    await h.settle();
    await h.advanceProcessingTime(10).settle();
    await h.advanceProcessingTime(10).settle();
    expect(h.values).toEqual(['ready']);
    answers = [null, null, null];
    h.processElement(2, 2);
    await h.settle();
    await h.advanceProcessingTime(10).settle();
    await h.advanceProcessingTime(10).settle();
    expect(h.values).toEqual(['ready', null]);
  });

  it('a failure under dead-letter becomes a letter and the records after it go on', async () => {
    const h = OperatorHarness.asyncMap(
      async (n: number) => {
        if (n === 2) throw new Error('no such user');
        return n * 10;
      },
      { uid: 'letters' },
      { onError: 'dead-letter' },
    );
    h.processBatch([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    await h.settle();
    expect(h.values).toEqual([10, 30]);
    expect(h.deadLetters.map((d) => [d.record, d.error.code])).toEqual([[2, 'USER_FUNCTION_FAILED']]);
  });
});

describe('async operator: checkpoints', () => {
  it('a snapshot keeps records in flight and results not yet sent; a restore calls again only for the former', async () => {
    const { service, h } = double('snap', 'ordered');
    h.processBatch([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    service.callFor(2).resolve(200);
    await h.settle();
    const state = h.snapshot();
    // The old attempt's calls answer after the crash: nobody listens.
    const after = new ManualService<number, number>();
    const restored = OperatorHarness.asyncMap(after.fn, { uid: 'snap', mode: 'ordered' }).initializeState(state);
    restored.open();
    expect(after.calls.map((c) => c.value)).toEqual([1, 3]);
    after.callFor(3).resolve(300);
    after.callFor(1).resolve(100);
    await restored.settle();
    expect(restored.output).toEqual([
      { value: 100, timestamp: 10 },
      { value: 200, timestamp: 20 },
      { value: 300, timestamp: 30 },
    ]);
  });

  it('unordered: a watermark held in the queue is in the snapshot and comes back in its place', async () => {
    const { service, h } = double('snap-wm', 'unordered');
    h.processElement(1, 10);
    h.processWatermark(15);
    h.processElement(2, 20);
    service.callFor(2).resolve(2);
    await h.settle();
    const after = new ManualService<number, number>();
    const restored = OperatorHarness.asyncMap(after.fn, { uid: 'snap-wm', mode: 'unordered' }).initializeState(h.snapshot());
    restored.open();
    expect(after.calls.map((c) => c.value)).toEqual([1]);
    expect(restored.watermarks).toEqual([]);
    after.callFor(1).resolve(1);
    await restored.settle();
    expect(restored.values).toEqual([1, 2]);
    expect(restored.watermarks).toEqual([15]);
  });

  it('restored at another parallelism: every record in flight is called again by exactly one subtask', () => {
    const { h } = double('rescale', 'unordered');
    h.processBatch([
      [1, 1],
      [2, 2],
    ]);
    const h2 = double('rescale', 'unordered');
    h2.h.processBatch([[3, 3]]);
    const parts = [h.snapshot(), h2.h.snapshot()];
    const calls: number[] = [];
    for (const index of [0, 1, 2]) {
      const s = new ManualService<number, number>();
      const r = OperatorHarness.asyncMap(s.fn, { uid: 'rescale', mode: 'unordered' }, { subtask: { index, parallelism: 3 } }).initializeStateParts(parts);
      r.open();
      calls.push(...s.calls.map((c) => c.value));
    }
    expect(calls.sort()).toEqual([1, 2, 3]);
  });
});
