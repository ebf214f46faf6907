import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import type { ChannelEvent } from '../../src/runtime/channel.js';
import {
  createThreadChannel,
  openThreadChannelReceiver,
  openThreadChannelSender,
  transferListOf,
  type ThreadChannelReceiver,
} from '../../src/runtime/exchange/thread-channel.js';
import type { WorkerScript } from '../fixtures/thread-channel-worker.js';

const WORKER = new URL('../fixtures/thread-channel-worker.mjs', import.meta.url);

/** A worker playing a script of `thread-channel-worker.ts`, with its messages in a queue. */
interface Player {
  readonly worker: Worker;
  /** The next message of type `type` (earlier messages of other types are skipped). */
  next(type: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** Whether a message of `type` has come (without waiting). */
  has(type: string): boolean;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  hasExited(): boolean;
}

const players: Player[] = [];
afterEach(async () => {
  await Promise.all(players.splice(0).map((p) => p.worker.terminate()));
});

function play(script: WorkerScript): Player {
  const worker = new Worker(WORKER, { workerData: script, transferList: transferListOf(script.endpoint) });
  const messages: Array<Record<string, any>> = [];
  let notify: (() => void) | undefined;
  worker.on('message', (m: Record<string, any>) => {
    messages.push(m);
    notify?.();
  });
  let exitedAlready = false;
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => {
      exitedAlready = true;
      resolve(code);
    });
  });
  exited.catch(() => {});
  const player: Player = {
    worker,
    async next(type, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const i = messages.findIndex((m) => m.type === type);
        if (i >= 0) return messages.splice(i, 1)[0]!;
        if (performance.now() > deadline) throw new Error(`no '${type}' message from the worker within ${timeoutMs} ms`);
        await Promise.race([new Promise<void>((resolve) => (notify = resolve)), sleep(50), exited]);
      }
    },
    has: (type) => messages.some((m) => m.type === type),
    exited,
    hasExited: () => exitedAlready,
  };
  players.push(player);
  return player;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Takes everything the channel delivers until `end` (resolves with it all, in order). */
function collectUntilEnd<T>(input: ThreadChannelReceiver<T>): Promise<ChannelEvent<T>[]> {
  return new Promise((resolve) => {
    const got: ChannelEvent<T>[] = [];
    input.onData = () => {
      for (let e = input.shift(); e !== undefined; e = input.shift()) {
        got.push(e);
        if (e.kind === 'end') resolve(got);
      }
    };
    input.onData();
  });
}

/** A seeded mix of batches (1 to 40 records) and watermark, idle and barrier events, then end. */
function mixedEvents(seed: number, count: number): ChannelEvent<unknown>[] {
  let x = seed;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const events: ChannelEvent<unknown>[] = [];
  let record = 0;
  for (let i = 0; i < count; i++) {
    const k = rnd(10);
    if (k < 6) {
      const n = 1 + rnd(40);
      const values = Array.from({ length: n }, () => ({ i: record, user: `u${record % 7}`, score: record++ * 0.5 }));
      events.push({ kind: 'batch', batch: { values, timestamps: values.map((v) => (v.i % 11 === 0 ? Number.NaN : 1_700_000_000_000 + v.i)) } });
    } else if (k < 8) events.push({ kind: 'watermark', watermark: 1_700_000_000_000 + record });
    else if (k < 9) events.push({ kind: 'idle', idle: rnd(2) === 0 });
    else events.push({ kind: 'barrier', checkpointId: i });
  }
  events.push({ kind: 'end' });
  return events;
}

describe('thread channel: order', () => {
  it('delivers batches and control events in the order pushed, worker to main thread, under backpressure', async () => {
    const ends = createThreadChannel(4);
    const events = mixedEvents(7, 600);
    play({ script: 'produce', endpoint: ends.sender, events });
    const got = await collectUntilEnd(openThreadChannelReceiver(ends.receiver));
    expect(got).toEqual(events);
  });

  it('delivers in order between two workers (each endpoint posted to its own thread)', async () => {
    const ends = createThreadChannel(2);
    const events = mixedEvents(11, 300);
    const consumer = play({ script: 'consume', endpoint: ends.receiver });
    play({ script: 'produce', endpoint: ends.sender, events });
    const { events: got } = await consumer.next('consumed');
    expect(got).toEqual(events);
  });
});

describe('thread channel: values', () => {
  it('values survive as documented in batch-codec.ts (objects, unicode, undefined fields, NaN timestamps, nested arrays, bigint, Date, Map, Set, bytes)', async () => {
    const ends = createThreadChannel(2);
    play({ script: 'tricky', endpoint: ends.sender });
    const [batch, end] = await collectUntilEnd(openThreadChannelReceiver<any>(ends.receiver));
    expect(end).toEqual({ kind: 'end' });
    if (batch?.kind !== 'batch') throw new Error('expected a batch');
    expect(batch.traceId).toBe('trace-1');
    expect(batch.readAt).toBeUndefined();
    const v = batch.batch.values;
    const ts = batch.batch.timestamps;
    expect(ts).toHaveLength(v.length);
    expect(Number.isNaN(ts[1])).toBe(true);
    expect(ts[0]).toBe(1000);
    expect(v[0]).toEqual({ auction: 1001, bidder: 2001, price: 123456, channel: 'Google', url: 'https://www.nexmark.com/x/y', dateTime: 1_700_000_000_000, extra: 'pad' });
    expect(v[1].text).toBe('naïve café 中文 😀 \u0000 end');
    expect(v[1].empty).toBe('');
    // a field set to undefined stays present; a missing one stays missing
    expect(Object.keys(v[2])).toEqual(['set', 'kept']);
    expect(v[2].set).toBeUndefined();
    expect(v[2].kept).toBeNull();
    expect(Object.keys(v[3])).toEqual(['onlyThis']);
    expect(v[4].nums).toEqual([NaN, Infinity, -Infinity, 1.5, 2 ** 53, -(2 ** 31), 0.1 + 0.2]);
    expect(v[5].nested).toEqual([[1, [2, [3, ['deep']]]], { a: [{ b: [] }] }]);
    expect(v[6].when).toBeInstanceOf(Date);
    expect(v[6].when.getTime()).toBe(1_700_000_000_123);
    expect(v[6].small).toBe(5n);
    expect(v[6].huge).toBe(2n ** 100n);
    expect(v[6].negative).toBe(-(2n ** 70n));
    expect(v[7].map).toEqual(new Map<unknown, unknown>([['k', 1], [2, { v: 'two' }]]));
    expect(v[7].set).toEqual(new Set(['a', 'b']));
    expect([...v[8].bytes]).toEqual([1, 2, 255]);
    expect(v[8].floats).toBeInstanceOf(Float64Array);
    expect([...v[8].floats]).toEqual([0.5, -2]);
    // a class instance arrives as a plain object of its fields: the prototype is lost
    expect(v[9]).toEqual({ x: 3, y: 4 });
    expect(Object.getPrototypeOf(v[9])).toBe(Object.prototype);
    expect(v.slice(10, 13)).toEqual([[1, 'mixed', true, null], 'a plain string', 42]);
    // -0 arrives as 0
    expect(Object.is(v[13], 0)).toBe(true);
    expect(v.slice(14)).toEqual([true, null]);
  });

  it('batches of one flat shape cross as columns (batch-codec.ts, columnar-codec.ts) and arrive as they left, -0 included; a misfit sends its batch through msgpackr', async () => {
    const clicks = Array.from({ length: 700 }, (_, i) => ({ user: (i * 2654435761) % 10_000, at: Math.floor(i / 100) }));
    const numbers = [1, -0, 2.5, NaN, -Infinity, 2 ** 53];
    const mixed = [
      { id: 1, ok: true, name: 'naïve 中文 😀', score: 0.5 },
      { id: 2, ok: false, name: '', score: -0 },
    ];
    const misfit = [{ user: 1, at: 2 }, { at: 3, user: 4 }, { user: 5, at: 6, extra: 'x' }];
    const events: ChannelEvent<unknown>[] = [clicks, numbers, mixed, misfit, clicks].map((values) => ({
      kind: 'batch',
      batch: { values, timestamps: values.map((_, i) => i) },
    }));
    events.push({ kind: 'end' });
    const ends = createThreadChannel(2);
    play({ script: 'produce', endpoint: ends.sender, events });
    const got = await collectUntilEnd(openThreadChannelReceiver<any>(ends.receiver));
    expect(got).toEqual(events);
    const values = got.map((e) => (e.kind === 'batch' ? e.batch.values : []));
    expect(Object.is(values[1]![1], -0)).toBe(true);
    expect(Object.is(values[2]![1].score, -0)).toBe(true);
    expect(values[3]!.map((r: object) => Object.keys(r))).toEqual([['user', 'at'], ['at', 'user'], ['user', 'at', 'extra']]);
  });

  it('a record that cannot cross gives RECORD_NOT_TRANSFERABLE naming the record and the field; the channel goes on', async () => {
    const ends = createThreadChannel(4, "'score' 0 -> 1");
    const producer = play({ script: 'untransferable', endpoint: ends.sender });
    const got = await collectUntilEnd(openThreadChannelReceiver(ends.receiver));
    const errors = [await producer.next('error'), await producer.next('error'), await producer.next('error')];
    expect(errors.map((e) => e.kind)).toEqual(['function', 'symbol', 'cycle']);
    for (const e of errors) {
      expect(e.isSluiceError).toBe(true);
      expect(e.code).toBe('RECORD_NOT_TRANSFERABLE');
      expect(e.message).toContain("'score' 0 -> 1: record 1 of a batch of 2 cannot cross to another thread");
    }
    expect(errors[0]!.message).toContain('a function at .handler.onEvent');
    expect(errors[1]!.message).toContain('a symbol at .tags[1]');
    expect(errors[2]!.message).toContain('a cycle at .self.back');
    expect(producer.has('no-error')).toBe(false);
    // nothing of the refused batches arrived
    expect(got).toEqual([{ kind: 'batch', batch: { values: [{ after: 'errors' }], timestamps: [3] } }, { kind: 'end' }]);
  });
});

describe('thread channel: backpressure', () => {
  it('the producer is full after `capacity` batches (control events take no credit); writable() resolves only once the consumer shifts a batch', async () => {
    const ends = createThreadChannel(3);
    const batch = (i: number): ChannelEvent<unknown> => ({ kind: 'batch', batch: { values: [i, i], timestamps: [i, i] } });
    const events: ChannelEvent<unknown>[] = [
      { kind: 'watermark', watermark: 1 },
      batch(1),
      { kind: 'idle', idle: false },
      batch(2),
      { kind: 'barrier', checkpointId: 1 },
      batch(3),
      batch(4),
      { kind: 'end' },
    ];
    const producer = play({ script: 'produce', endpoint: ends.sender, events });
    const input = openThreadChannelReceiver(ends.receiver);
    const full = await producer.next('full');
    expect(full).toMatchObject({ queuedBatches: 3, queuedRecords: 6 });

    await sleep(300);
    expect(producer.has('writable')).toBe(false);
    expect(producer.hasExited()).toBe(false); // a waiting producer keeps its thread alive
    expect(input.shift()).toEqual({ kind: 'watermark', watermark: 1 });
    await sleep(200);
    expect(producer.has('writable')).toBe(false); // a control event gives no credit

    expect(input.shift()).toEqual(batch(1));
    expect(await producer.next('writable')).toMatchObject({ queuedBatches: 2 });
    // batch 4 fills it again; taking the rest lets it finish
    expect(await producer.next('full')).toMatchObject({ queuedBatches: 3 });
    const rest = await collectUntilEnd(input);
    expect(rest).toEqual(events.slice(2));
    await producer.next('produced');
  });

  it('release() wakes a producer waiting in writable() although the consumer took nothing', async () => {
    const ends = createThreadChannel(1);
    const batch: ChannelEvent<unknown> = { kind: 'batch', batch: { values: ['x'], timestamps: [0] } };
    const producer = play({ script: 'produce', endpoint: ends.sender, events: [batch, batch] });
    const input = openThreadChannelReceiver(ends.receiver);
    expect(await producer.next('full')).toMatchObject({ queuedBatches: 1 });
    await sleep(200);
    expect(producer.has('writable')).toBe(false);
    producer.worker.postMessage({ type: 'release' });
    expect(await producer.next('writable')).toMatchObject({ queuedBatches: 1 });
    expect(await producer.next('full')).toMatchObject({ queuedBatches: 2 });
    // closing the consuming end also wakes it (nothing would ever grant credit again)
    input.close();
    await producer.next('produced');
    expect(await producer.exited).toBe(0);
  });
});

describe('thread channel: clocks', () => {
  it("a batch's readAt arrives in the consumer's performance.now() clock, whatever the producer's clock origin", async () => {
    for (const clockOffsetMs of [0, 5000]) {
      const before = performance.now();
      const ends = createThreadChannel(2);
      const producer = play({ script: 'read-at', endpoint: ends.sender, clockOffsetMs });
      const [batch] = await collectUntilEnd(openThreadChannelReceiver(ends.receiver));
      const after = performance.now();
      const { workerNow } = await producer.next('pushed-at');
      if (batch?.kind !== 'batch') throw new Error('expected a batch');
      expect(batch.readAt).toBeGreaterThanOrEqual(before - 1);
      expect(batch.readAt).toBeLessThanOrEqual(after + 1);
      // the producer's own reading was that far off ours: within what a loaded machine takes between its reading and the push
      // (a translation that failed would be off by the whole 5 s origin)
      expect(Math.abs((workerNow as number) - batch.readAt! + clockOffsetMs)).toBeLessThan(1000);
    }
  });

  it('readAt and traceId pass unchanged between ends in one thread', async () => {
    const ends = createThreadChannel(2);
    const out = openThreadChannelSender<number>(ends.sender);
    const input = openThreadChannelReceiver<number>(ends.receiver);
    out.push({ kind: 'batch', batch: { values: [1], timestamps: [2] }, readAt: 123.456, traceId: 't' });
    out.push({ kind: 'end' });
    const [b] = await collectUntilEnd(input);
    if (b?.kind !== 'batch') throw new Error('expected a batch');
    expect(b.readAt).toBeCloseTo(123.456, 3);
    expect(b.traceId).toBe('t');
    out.close();
    input.close();
  });
});

describe('thread channel: closing', () => {
  it('a producer that closes right after its last push exits, and the consumer still gets everything', async () => {
    // room for every batch: the producer never waits, so it closes before anything is taken
    const ends = createThreadChannel(100);
    const events = mixedEvents(3, 40);
    const producer = play({ script: 'produce', endpoint: ends.sender, events, close: true });
    const input = openThreadChannelReceiver(ends.receiver);
    expect(await producer.exited).toBe(0);
    expect(await collectUntilEnd(input)).toEqual(events);
    await sleep(50);
    expect(input.closed).toBe(true);
  });

  it('a consumer stays alive while more may come; after `end` it lets its worker exit', async () => {
    const ends = createThreadChannel(4);
    const consumer = play({ script: 'consume', endpoint: ends.receiver });
    const out = openThreadChannelSender<number>(ends.sender);
    out.push({ kind: 'batch', batch: { values: [1, 2], timestamps: [1, 2] } });
    await sleep(300);
    expect(consumer.hasExited()).toBe(false);
    out.push({ kind: 'end' });
    const { events } = await consumer.next('consumed');
    expect(events).toHaveLength(2);
    expect(await consumer.exited).toBe(0);
    out.close();
  });

  it("closing the producing end lets a consumer that never got `end` exit", async () => {
    const ends = createThreadChannel(4);
    const consumer = play({ script: 'consume', endpoint: ends.receiver });
    const out = openThreadChannelSender<number>(ends.sender);
    out.push({ kind: 'watermark', watermark: 5 });
    await sleep(300);
    expect(consumer.hasExited()).toBe(false);
    out.close();
    expect(await consumer.exited).toBe(0);
    // pushes after close are dropped, and writable() does not wait
    out.push({ kind: 'batch', batch: { values: [1], timestamps: [1] } });
    await out.writable();
  });
});

describe('thread channel: endpoints', () => {
  it('refuses a capacity that is not a positive integer, and an endpoint opened as the wrong end', () => {
    expect(() => createThreadChannel(0)).toThrow(SluiceError);
    expect(() => createThreadChannel(1.5)).toThrow(/capacity must be a positive integer/);
    const ends = createThreadChannel(1);
    expect(() => openThreadChannelSender(ends.receiver)).toThrow(/expected the 'sender' endpoint of a thread channel, got its 'receiver' endpoint/);
    expect(() => openThreadChannelReceiver({})).toThrow(SluiceError);
    ends.sender.port.close();
  });

  it('counts batches and records in flight until the consumer takes them', async () => {
    const ends = createThreadChannel(2);
    const out = openThreadChannelSender<string>(ends.sender);
    const input = openThreadChannelReceiver<string>(ends.receiver);
    out.push({ kind: 'batch', batch: { values: ['a', 'b', 'c'], timestamps: [1, 2, 3] } });
    out.push({ kind: 'watermark', watermark: 3 });
    out.push({ kind: 'batch', batch: { values: ['d'], timestamps: [4] } });
    expect([out.queuedBatches, out.queuedRecords, out.isFull]).toEqual([2, 4, true]);
    const room = out.writable();
    await sleep(50);
    expect(input.isEmpty).toBe(false);
    expect(input.shift()?.kind).toBe('batch');
    await room;
    expect([out.queuedBatches, out.queuedRecords, out.isFull]).toEqual([1, 1, false]);
    out.close();
    input.close();
  });
});
