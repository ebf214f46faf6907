import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/runtime/dead-letter-queue.js';
import { Job } from '../../../src/launch/job.js';
import { callbackSink } from '../../../src/connectors/callback/index.js';
import { collectSink } from '../../../src/connectors/collect/index.js';
import { testSourceContext } from '../../../src/testing/index.js';
import { mqttSource } from '../../../src/connectors/mqtt/index.js';
import { describeFormats, type Order } from '../format-cases.js';

// Mosquitto on 127.0.0.1:1883 (started by test/setup/services.ts). Every test has its own
// topics and client ids; the persistent sessions they leave are cleaned up at the end.
const url = 'mqtt://127.0.0.1:1883';
const run = `sluice-test-${randomUUID().slice(0, 8)}`;
let seq = 0;
const unique = (what: string) => `${run}-${what}-${seq++}`;
const sessions: string[] = [];

let publisher: MqttClient;
beforeAll(async () => {
  publisher = await connectAsync(url, { clientId: unique('publisher') });
});
afterAll(async () => {
  await publisher.endAsync();
  for (const clientId of sessions) {
    const c = await connectAsync(url, { clientId, clean: true }).catch(() => undefined);
    await c?.endAsync();
  }
});

/**
 * A persistent session subscribed to `topics`, made before the job starts: the broker queues
 * what is published from now on for the reader with this client id, so no message races the
 * reader's own SUBSCRIBE.
 */
async function session(topics: string[]): Promise<string> {
  const clientId = unique('reader');
  sessions.push(clientId);
  const c = await connectAsync(url, { clientId, clean: false });
  await c.subscribeAsync(topics, { qos: 1 });
  await c.endAsync();
  return clientId;
}

async function publish(topic: string, payloads: Array<string | Uint8Array>): Promise<void> {
  for (const p of payloads) await publisher.publishAsync(topic, Buffer.from(p), { qos: 1 });
}

async function until(check: () => boolean, what: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Reading {
  i: number;
  device?: string;
}
const readings = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => JSON.stringify({ i: from + k }));

describe('mqttSource', () => {
  it('delivers messages to a job in publishing order, those queued by its persistent session while it was down first', async () => {
    const topic = unique('t');
    const clientId = await session([topic]);
    await publish(topic, readings(0, 50)); // while no job runs
    const job = new Job({ name: 'mqtt-order' });
    const out = collectSink<Reading>();
    job.source(mqttSource<Reading>({ url, topics: topic, clientId }), { uid: 'in' }).sinkTo(out);
    const running = job.start();
    await until(() => out.count >= 50, () => `${out.count} of the first 50`);
    await publish(topic, readings(50, 100));
    await until(() => out.count >= 100, () => `${out.count} of 100`);
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('subscribes to wildcard topic filters', async () => {
    const base = unique('plant');
    const clientId = await session([`${base}/+/temp`, `${base}/alarm/#`]);
    const job = new Job({ name: 'mqtt-wildcards' });
    const out = collectSink<Reading>();
    job.source(mqttSource<Reading>({ url, topics: [`${base}/+/temp`, `${base}/alarm/#`], clientId }), { uid: 'in' }).sinkTo(out);
    await publish(`${base}/a/temp`, [JSON.stringify({ i: 1, device: 'a' })]);
    await publish(`${base}/a/humidity`, [JSON.stringify({ i: 2, device: 'a' })]); // matches neither
    await publish(`${base}/b/temp`, [JSON.stringify({ i: 3, device: 'b' })]);
    await publish(`${base}/alarm/b/fire`, [JSON.stringify({ i: 4, device: 'b' })]);
    await publish(`${base}/a/temp/raw`, [JSON.stringify({ i: 5, device: 'a' })]); // '+' is one level only
    const running = job.start();
    await until(() => out.count >= 3, () => `${out.count} of 3`);
    await new Promise((r) => setTimeout(r, 200)); // anything unmatched would show now
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i).sort()).toEqual([1, 3, 4]);
  });

  it('dead-letters a bad payload with its topic and receive counter, and carries on', async () => {
    const topic = unique('bad');
    const clientId = await session([topic]);
    await publish(topic, [JSON.stringify({ i: 0 }), '{not json', JSON.stringify({ i: 1 }), new Uint8Array([0xff, 0x00]), JSON.stringify({ i: 2 })]);
    const job = new Job({ name: 'mqtt-dead-letters', onError: 'dead-letter' });
    const out = collectSink<Reading>();
    const dead = collectSink<DeadLetter>();
    job.source(mqttSource<Reading>({ url, topics: topic, clientId }), { uid: 'in' }).sinkTo(out);
    job.deadLetters().sinkTo(dead);
    const running = job.start();
    await until(() => out.count >= 3 && dead.count >= 2, () => `${out.count} records, ${dead.count} dead letters`);
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i)).toEqual([0, 1, 2]);
    expect(dead.values.map((d) => [d.step, d.error.code, d.position])).toEqual([
      ['in', 'BAD_RECORD', `${topic}@2`],
      ['in', 'BAD_RECORD', `${topic}@4`],
    ]);
  });

  it("onBadRecord: 'fail' fails the job with BAD_RECORD; 'skip' counts and drops", async () => {
    const topic = unique('policy');
    const failing = await session([topic]);
    const skipping = await session([topic]);
    await publish(topic, [JSON.stringify({ i: 0 }), '{not json', JSON.stringify({ i: 1 })]);

    const job = new Job({ name: 'mqtt-fail', onError: 'dead-letter' });
    job.source(mqttSource<Reading>({ url, topics: topic, clientId: failing, onBadRecord: 'fail' }), { uid: 'in' }).sinkTo(collectSink<Reading>());
    job.deadLetters().sinkTo(collectSink<DeadLetter>());
    await expect(job.run()).rejects.toThrow(new RegExp(`BAD_RECORD|bad input at ${topic}@2`));

    const source = mqttSource<Reading>({ url, topics: topic, clientId: skipping, onBadRecord: 'skip' });
    const skipJob = new Job({ name: 'mqtt-skip' });
    const out = collectSink<Reading>();
    skipJob.source(source, { uid: 'in' }).sinkTo(out);
    const running = skipJob.start();
    await until(() => out.count >= 2, () => `${out.count} of 2`);
    running.cancel();
    await running.done;
    expect(out.values.map((v) => v.i)).toEqual([0, 1]);
    expect(source.stats).toMatchObject({ decoded: 2, bad: 1, skipped: 1 });
  });

  it('holds a full queue without losing anything: a slow sink gets every message in order', async () => {
    const topic = unique('slow');
    const clientId = await session([topic]);
    const n = 300; // below Mosquitto's max_queued_messages (1000), beyond which the broker drops
    await publish(topic, readings(0, n));
    const got: number[] = [];
    const job = new Job({ name: 'mqtt-backpressure', batchSize: 4, channelCapacity: 1 });
    job
      .source(mqttSource<Reading>({ url, topics: topic, clientId, queueCapacity: 4 }), { uid: 'in' })
      .sinkTo(
        callbackSink(async (v: Reading) => {
          await new Promise((r) => setTimeout(r, 1));
          got.push(v.i);
        }),
      );
    const running = job.start();
    await until(() => got.length >= n, () => `${got.length} of ${n}`, 25_000);
    running.cancel();
    await running.done;
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('acknowledges only what it queued: a full queue leaves the rest with the broker, so a restart loses at most the queue', async () => {
    const topic = unique('held');
    const clientId = await session([topic]);
    const n = 40;
    const capacity = 4;
    await publish(topic, readings(0, n));
    const source = mqttSource<Reading>({ url, topics: topic, clientId, queueCapacity: capacity });

    const first = source.createReader(testSourceContext({ maxBatchSize: 100 }));
    await first.open!();
    await new Promise((r) => setTimeout(r, 300)); // the broker has sent what the reader would take
    const a = (await first.poll()).values.map((v) => v.i);
    expect(a).toEqual([0, 1, 2, 3]); // never more than the queue holds
    await new Promise((r) => setTimeout(r, 100)); // the queue refills (and those are acknowledged)
    await first.close();

    const second = source.createReader(testSourceContext({ maxBatchSize: 100 }));
    await second.open!();
    const b: number[] = [];
    const deadline = Date.now() + 10_000;
    while (!b.includes(n - 1) && Date.now() < deadline) b.push(...(await second.poll()).values.map((v) => v.i));
    await second.close();
    // What the second reader gets is the rest, in order, from just after the lost queue.
    expect(b.length).toBeGreaterThan(0);
    expect(b).toEqual(Array.from({ length: b.length }, (_, k) => n - b.length + k));
    const lost = n - a.length - b.length;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(capacity);
  });

  it('honours ctx.signal: a poll waiting for messages returns when the job is cancelled', async () => {
    const topic = unique('idle');
    const ctx = testSourceContext({ maxPollWaitMs: 60_000 });
    const reader = mqttSource<Reading>({ url, topics: topic, clientId: unique('idle-reader'), cleanSession: true }).createReader(ctx);
    await reader.open!();
    const started = Date.now();
    const polled = reader.poll();
    setTimeout(() => ctx.abort(), 50);
    expect((await polled).values).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    await reader.close();
  });

  it('fails to open with SOURCE_FAILED when the broker does not answer', async () => {
    const reader = mqttSource({ url: 'mqtt://127.0.0.1:1', topics: 'x', cleanSession: true }).createReader(testSourceContext());
    await expect(reader.open!()).rejects.toThrow(/SOURCE_FAILED|failed connecting to mqtt:\/\/127\.0\.0\.1:1/);
    await reader.close();
  });

  it('is not replayable, so a job asking for exactly-once or at-least-once delivery refuses it', () => {
    const source = mqttSource<Reading>({ topics: 'never/used' });
    expect(source.replayable).toBe(false);
    for (const delivery of ['exactly-once', 'at-least-once'] as const) {
      const job = new Job({ name: `mqtt-${delivery}`, delivery, checkpoints: { interval: '1s', dir: join(mkdtempSync(join(tmpdir(), 'sluice-mqtt-')), 'cp') } });
      job.source(source, { uid: 'in' }).sinkTo(collectSink<Reading>());
      expect(() => job.start()).toThrow(expect.objectContaining({ code: 'DELIVERY_UNSUPPORTED', message: expect.stringMatching(/source 'in' \(mqtt\) cannot replay/) }));
    }
    // With checkpoints the default is at-least-once; delivery: 'none' is what this source keeps.
    const job = new Job({ name: 'mqtt-none', delivery: 'none', checkpoints: { interval: '1s', dir: join(mkdtempSync(join(tmpdir(), 'sluice-mqtt-')), 'cp') } });
    job.source(source, { uid: 'in' }).sinkTo(collectSink<Reading>());
    expect(job.explain()).toContain('mqtt');
  });

  it('rejects bad options at once', () => {
    expect(() => mqttSource({ topics: [] })).toThrow(/INVALID_ARGUMENT|topics must be/);
    expect(() => mqttSource({ topics: 't', qos: 2 as 1 })).toThrow(/qos must be 0 or 1/);
    expect(() => mqttSource({ topics: 't', queueCapacity: 0 })).toThrow(/queueCapacity must be a positive integer/);
    expect(() => mqttSource({ topics: 't', onBadRecord: 'drop' as 'skip' })).toThrow(/onBadRecord/);
  });
});

/** Every format through mqttSource (issue 18), the payloads published at QoS 1 to a persistent session. */
describeFormats('mqttSource with every format (real Mosquitto)', async () => {
  const topic = unique('fmt');
  const clientId = await session([topic]);
  return {
    publish: (messages) => publish(topic, messages),
    source: (format) => mqttSource<Order>({ url, topics: topic, clientId, format }),
    position: new RegExp(`^${topic}@\\d+$`),
  };
});
