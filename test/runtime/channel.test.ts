import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/runtime/batch.js';
import { LocalChannel, type ChannelEvent } from '../../src/runtime/channel.js';
import { ChannelOutput } from '../../src/runtime/channel-output.js';
import { ManualClock } from '../../src/time/clock.js';
import { settle } from '../helpers.js';

function batchOf(...values: number[]): Batch<number> {
  return { values, timestamps: values.map((v) => v * 10) };
}

function drainAll<T>(c: LocalChannel<T>): ChannelEvent<T>[] {
  const out: ChannelEvent<T>[] = [];
  for (let e = c.shift(); e !== undefined; e = c.shift()) out.push(e);
  return out;
}

/** Events as short strings: batches as their values, control events by kind. */
function show(events: ChannelEvent<number>[]): string[] {
  return events.map((e) =>
    e.kind === 'batch' ? `[${e.batch.values.join(',')}]` : e.kind === 'watermark' ? `wm ${e.watermark}` : e.kind === 'idle' ? `idle ${e.idle}` : 'end',
  );
}

describe('LocalChannel', () => {
  it('keeps events in order and counts batches and records', () => {
    const c = new LocalChannel<number>(4);
    c.push({ kind: 'batch', batch: batchOf(1, 2) });
    c.push({ kind: 'watermark', watermark: 5 });
    c.push({ kind: 'batch', batch: batchOf(3) });
    c.push({ kind: 'end' });
    expect(c.queuedBatches).toBe(2);
    expect(c.queuedRecords).toBe(3);
    expect(show(drainAll(c))).toEqual(['[1,2]', 'wm 5', '[3]', 'end']);
    expect(c.isEmpty).toBe(true);
    expect(c.queuedBatches).toBe(0);
    expect(c.queuedRecords).toBe(0);
  });

  it('is full at capacity batches; control events do not count', () => {
    const c = new LocalChannel<number>(2);
    c.push({ kind: 'watermark', watermark: 1 });
    c.push({ kind: 'idle', idle: true });
    expect(c.isFull).toBe(false);
    c.push({ kind: 'batch', batch: batchOf(1) });
    expect(c.isFull).toBe(false);
    c.push({ kind: 'batch', batch: batchOf(2) });
    expect(c.isFull).toBe(true);
  });

  it('writable() waits while full and resolves once the consumer takes a batch', async () => {
    const c = new LocalChannel<number>(2);
    await c.writable(); // not full: resolves at once
    c.push({ kind: 'batch', batch: batchOf(1) });
    c.push({ kind: 'batch', batch: batchOf(2) });
    let ready = false;
    const p = c.writable().then(() => (ready = true));
    await settle();
    expect(ready).toBe(false);
    c.shift(); // still full? no: one batch left of capacity 2
    await p;
    expect(ready).toBe(true);
  });

  it('taking a control event does not wake a waiting writer', async () => {
    const c = new LocalChannel<number>(1);
    c.push({ kind: 'watermark', watermark: 1 });
    c.push({ kind: 'batch', batch: batchOf(1) });
    let ready = false;
    void c.writable().then(() => (ready = true));
    expect(c.shift()?.kind).toBe('watermark');
    await settle();
    expect(ready).toBe(false);
    expect(c.shift()?.kind).toBe('batch');
    await settle();
    expect(ready).toBe(true);
  });

  it('release() wakes waiting writers (the job is stopping)', async () => {
    const c = new LocalChannel<number>(1);
    c.push({ kind: 'batch', batch: batchOf(1) });
    let ready = false;
    void c.writable().then(() => (ready = true));
    await settle();
    expect(ready).toBe(false);
    c.release();
    await settle();
    expect(ready).toBe(true);
  });

  it('calls onData on every push', () => {
    const c = new LocalChannel<number>(1);
    let n = 0;
    c.onData = () => n++;
    c.push({ kind: 'batch', batch: batchOf(1) });
    c.push({ kind: 'end' });
    expect(n).toBe(2);
  });

  it('keeps order across its internal compaction', () => {
    const c = new LocalChannel<number>(10_000);
    const taken: number[] = [];
    for (let i = 0; i < 5000; i++) {
      c.push({ kind: 'batch', batch: batchOf(i) });
      if (i % 3 !== 0) {
        const e = c.shift();
        if (e?.kind === 'batch') taken.push(...e.batch.values);
      }
    }
    for (const e of drainAll(c)) if (e.kind === 'batch') taken.push(...e.batch.values);
    expect(taken).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('ChannelOutput', () => {
  function setup(batchSize: number, flushMs = 10) {
    const clock = new ManualClock(0);
    const channel = new LocalChannel<number>(100);
    const writer = new ChannelOutput(channel, batchSize, flushMs, clock);
    return { clock, channel, writer };
  }

  it('gathers small batches until batchSize records, keeping their timestamps', () => {
    const { channel, writer } = setup(4);
    writer.emitBatch(batchOf(1));
    writer.emitBatch(batchOf(2));
    writer.emitBatch(batchOf(3));
    expect(channel.isEmpty).toBe(true);
    writer.emitBatch(batchOf(4));
    const events = drainAll(channel);
    expect(show(events)).toEqual(['[1,2,3,4]']);
    const b = (events[0] as { batch: Batch<number> }).batch;
    expect(b.timestamps).toEqual([10, 20, 30, 40]);
  });

  it('sends a batch at least half full as it is, without copying', () => {
    const { channel, writer } = setup(4);
    const big = batchOf(1, 2);
    writer.emitBatch(big);
    const events = drainAll(channel);
    expect(events).toHaveLength(1);
    expect((events[0] as { batch: Batch<number> }).batch).toBe(big);
  });

  it('sends a small batch that a flush follows (a watermark after each batch, as sources send) as it is, without copying', () => {
    const { clock, channel, writer } = setup(4);
    const small = batchOf(1);
    writer.emitBatch(small);
    expect(channel.isEmpty).toBe(true);
    writer.emitWatermark(5);
    const events = drainAll(channel);
    expect(show(events)).toEqual(['[1]', 'wm 5']);
    expect((events[0] as { batch: Batch<number> }).batch).toBe(small);
    expect(clock.scheduledCount).toBe(0);
    // a second small one before the flush: both are copied into one batch, the first left as it was
    const first = batchOf(2);
    writer.emitBatch(first);
    writer.emitBatch(batchOf(3));
    clock.advance(10);
    expect(show(drainAll(channel))).toEqual(['[2,3]']);
    expect(first.values).toEqual([2]);
  });

  it('appends to what is pending rather than overtaking it', () => {
    const { channel, writer } = setup(4);
    writer.emitBatch(batchOf(1));
    writer.emitBatch(batchOf(2, 3, 4, 5, 6)); // large, but records are pending: order is kept
    expect(show(drainAll(channel))).toEqual(['[1,2,3,4,5,6]']);
  });

  it('ignores empty batches', () => {
    const { clock, channel, writer } = setup(4);
    writer.emitBatch(batchOf());
    expect(clock.scheduledCount).toBe(0);
    writer.flush();
    expect(channel.isEmpty).toBe(true);
  });

  it.each([
    ['watermark', (w: ChannelOutput<number>) => w.emitWatermark(7), 'wm 7'],
    ['idle', (w: ChannelOutput<number>) => w.emitIdle(true), 'idle true'],
    ['end', (w: ChannelOutput<number>) => w.emitEnd(), 'end'],
  ] as const)('flushes pending records before a %s event', (_name, emit, shown) => {
    const { clock, channel, writer } = setup(100);
    writer.emitBatch(batchOf(1));
    writer.emitBatch(batchOf(2));
    emit(writer);
    expect(show(drainAll(channel))).toEqual(['[1,2]', shown]);
    expect(clock.scheduledCount).toBe(0); // the flush deadline was cancelled
  });

  it('sends a control event alone when nothing is pending', () => {
    const { channel, writer } = setup(100);
    writer.emitWatermark(3);
    expect(show(drainAll(channel))).toEqual(['wm 3']);
  });

  it('flushes a partial batch at the flush deadline, counted from its first record', () => {
    const { clock, channel, writer } = setup(100, 10);
    clock.set(1000);
    writer.emitBatch(batchOf(1));
    clock.advance(6);
    writer.emitBatch(batchOf(2)); // does not push the deadline back
    clock.advance(3);
    expect(channel.isEmpty).toBe(true);
    clock.advance(1); // 1010: deadline
    expect(show(drainAll(channel))).toEqual(['[1,2]']);
    // the next record starts a new deadline
    writer.emitBatch(batchOf(3));
    clock.advance(9);
    expect(channel.isEmpty).toBe(true);
    clock.advance(1);
    expect(show(drainAll(channel))).toEqual(['[3]']);
    expect(clock.scheduledCount).toBe(0);
  });

  it('a full batch cancels the flush deadline', () => {
    const { clock, channel, writer } = setup(3, 10);
    writer.emitBatch(batchOf(1));
    expect(clock.scheduledCount).toBe(1);
    writer.emitBatch(batchOf(2, 3));
    expect(clock.scheduledCount).toBe(0);
    expect(show(drainAll(channel))).toEqual(['[1,2,3]']);
    clock.advance(100);
    expect(channel.isEmpty).toBe(true);
  });

  it('dispose() stops the flush timer', () => {
    const { clock, channel, writer } = setup(100, 10);
    writer.emitBatch(batchOf(1));
    writer.dispose();
    clock.advance(100);
    expect(channel.isEmpty).toBe(true);
  });
});
