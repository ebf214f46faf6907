/**
 * A Kafka job rides out a broker restart: Kafka → count per key → Kafka, with
 * checkpoints every 500 ms, on a private broker (the shared one on 9092 serves every other
 * test and is never touched) that is SIGKILLed mid-run and started again 3 s later. The
 * output, read with read_committed, must be exactly what the job writes without faults
 * (exactly-once) or hold all of it (at-least-once), and the job must not use up its
 * restart policy. Wall time is measured by `bench/kafka-faults.ts`, never asserted here;
 * the test prints what it saw.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/index.js';
import { kafkaSink } from '../../../src/connectors/kafka/index.js';
import { testSinkContext } from '../../../src/testing/index.js';
import { backoffMs, isTransient, retriesFor, rideOut } from '../../../src/connectors/kafka/outage.js';
import { NetworkError, ProtocolError, UserError } from '@platformatic/kafka';
import { SystemClock } from '../../../src/time/clock.js';
import { freshTopic, produce, readCommitted } from './helpers.js';
import { RESTART_ATTEMPTS, buildFaultsJob, diffOutput, inputRecords, type FaultsFixture } from './kafka-faults-job.js';
import { privateBroker, type PrivateBroker } from './private-broker.js';

const RECORDS = 60_000;
const KEYS = 500;
const DOWN_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kafka connectors through a broker restart (a private broker, SIGKILLed)', () => {
  let broker: PrivateBroker;
  const checkpointDir = mkdtempSync(join(tmpdir(), 'sluice-kafka-faults-'));
  beforeAll(async () => {
    broker = await privateBroker('faults');
    await broker.start();
  }, 15 * 60_000);
  afterAll(async () => {
    rmSync(checkpointDir, { recursive: true, force: true });
    await broker?.destroy();
  }, 60_000);

  async function runThroughRestart(delivery: FaultsFixture['delivery']) {
    const brokers = [broker.address];
    const input = await freshTopic('faults-in', 4, brokers);
    const output = await freshTopic('faults-out', 4, brokers);
    await produce(input, inputRecords(RECORDS, KEYS), brokers);
    const { job, probe } = buildFaultsJob({ brokers: broker.address, input, output, groupId: `g-${randomUUID()}`, delivery, checkpointDir: join(checkpointDir, delivery) });
    const failures: string[] = [];
    const running = job.start({ onRestart: (e) => failures.push((e as Error).message.split('\n')[0]!) });
    let ended: unknown;
    const done = running.done.catch((e: unknown) => (ended = e));
    const completed = () => running.checkpoints.filter((c) => c.status === 'completed').length;
    // Kill once output flows and a checkpoint has completed (so one is in the middle of
    // its life: written, pre-committed or committing), while the source still has records to read.
    while ((probe.count < RECORDS / 5 || completed() === 0) && ended === undefined) await sleep(10);
    expect(ended).toBeUndefined();
    const readAtKill = running.monitor.metrics.snapshot().steps.find((s) => s.uid === 'in')?.recordsOut ?? 0;
    const killedAt = Date.now();
    await broker.kill();
    await sleep(DOWN_MS);
    await broker.start();
    const upAt = Date.now();
    await done;
    if (ended !== undefined) throw ended;

    // The outage as the job saw it: the longest time without a completed checkpoint.
    const ends = running.checkpoints.filter((c) => c.status === 'completed').map((c) => c.triggeredAt + c.durationMs);
    const gap = Math.max(0, ...ends.slice(1).map((t, i) => t - ends[i]!));
    const got = await readCommitted(output, RECORDS, 1500, 120_000, brokers);
    const diff = diffOutput(got.map((m) => m.value.toString()), RECORDS, KEYS);
    console.log(
      `[kafka faults] ${delivery}: ${running.restarts} restart(s) of ${RESTART_ATTEMPTS} allowed${failures.length ? ` (${failures.join(' | ')})` : ''}; ` +
        `broker down ${((upAt - killedAt) / 1000).toFixed(1)} s; no checkpoint completed for ${(gap / 1000).toFixed(1)} s; ` +
        `read ${readAtKill} of ${RECORDS} at the kill; output missing ${diff.missing}, doubled ${diff.doubled}`,
    );
    // Usually the source is still reading when the broker goes, so it reconnects too, not
    // only the sink; a fast run can read all input before the first checkpoint completes
    // (seen on Node 24 at at-least-once), and then only the sink's side is exercised. The
    // source's reconnect is pinned on its own in source.test.ts (a rejoin that rewinds).
    if (readAtKill >= RECORDS) console.log(`[kafka faults] ${delivery}: the source had read all its input before the kill`);
    expect(running.restarts).toBeLessThan(RESTART_ATTEMPTS);
    return { diff, restarts: running.restarts };
  }

  it('exactly-once: the output equals the expected multiset (nothing lost, nothing doubled) and the restart policy is not used up', async () => {
    const { diff } = await runThroughRestart('exactly-once');
    expect(diff).toEqual({ missing: 0, doubled: 0 });
  }, 240_000);

  it('at-least-once: nothing is lost, and the restart policy is not used up', async () => {
    const { diff, restarts } = await runThroughRestart('at-least-once');
    expect(diff.missing).toBe(0);
    // Without a restart nothing is replayed, so nothing is doubled either.
    if (restarts === 0) expect(diff.doubled).toBe(0);
  }, 240_000);

  it('exactly-once sink: a commit and a recovery that meet a dead broker are done once it is back (no failure, nothing lost)', async () => {
    const brokers = [broker.address];
    const topic = await freshTopic('faults-tx', 2, brokers);
    const order = (i: number) => ({ id: i });
    const sinkOf = (prefix: string) => kafkaSink<{ id: number }>({ brokers, topic, transactionalIdPrefix: `${prefix}-${topic}` });
    // A writer pre-commits a transaction and crashes before committing it (the restored checkpoint holds its handle) ...
    const crashed = sinkOf('restored').createWriter(testSinkContext({ transactional: true, uid: 'out' }));
    await crashed.open?.();
    await crashed.recover?.([]);
    await crashed.write(Array.from({ length: 100 }, (_, i) => order(i)), []);
    const restoredHandle = await crashed.preCommit?.(1);
    await crashed.close();
    // ... and another, alive, has pre-committed one whose checkpoint has just completed.
    const live = sinkOf('live').createWriter(testSinkContext({ transactional: true, uid: 'out' }));
    await live.open?.();
    await live.recover?.([]);
    await live.write(Array.from({ length: 50 }, (_, i) => order(100 + i)), []);
    const liveHandle = await live.preCommit?.(1);

    await broker.kill();
    // The crashed writer's job restarts while the broker is away (the finding: it used up its
    // restarts on 'could not commit the restored transaction'), and the live one commits.
    const restarted = sinkOf('restored').createWriter(testSinkContext({ transactional: true, uid: 'out' }));
    await restarted.open?.();
    const recovering = restarted.recover?.([restoredHandle]);
    const committing = live.commit?.([liveHandle]);
    await sleep(DOWN_MS);
    await broker.start();
    await Promise.all([recovering, committing]);
    await restarted.close();
    await live.close();

    const got = await readCommitted(topic, 150, 1500, 60_000, brokers);
    expect(got.map((m) => (JSON.parse(m.value.toString()) as { id: number }).id).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  }, 240_000);

  it('a broker that stays away longer than brokerUnavailableTimeout fails the job with BROKER_UNAVAILABLE', async () => {
    const brokers = [broker.address];
    const input = await freshTopic('faults-gone-in', 2, brokers);
    const output = await freshTopic('faults-gone-out', 2, brokers);
    await produce(input, inputRecords(20_000, KEYS), brokers);
    const { job, probe } = buildFaultsJob({
      brokers: broker.address,
      input,
      output,
      groupId: `g-${randomUUID()}`,
      delivery: 'exactly-once',
      checkpointDir: join(checkpointDir, 'gone'),
      brokerUnavailableTimeout: 3000,
      restartAttempts: 0,
    });
    const running = job.start();
    let ended: unknown;
    const done = running.done.then(
      () => (ended = new Error('the job finished before the broker was killed')),
      (e: unknown) => (ended = e),
    );
    while (probe.count === 0 && ended === undefined) await sleep(10);
    const killedAt = Date.now();
    await broker.kill();
    await done;
    console.log(`[kafka faults] broker gone for good: the job failed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill: ${String((ended as Error).message).split('\n')[0]}`);
    expect(ended).toBeInstanceOf(SluiceError);
    expect((ended as SluiceError).code).toBe('BROKER_UNAVAILABLE');
    expect((ended as SluiceError).message).toContain(`no Kafka broker of ${broker.address} served it for`);
    expect((ended as SluiceError).message).toContain('(brokerUnavailableTimeout: 3000 ms)');
  }, 240_000);
});

describe('riding out a broker outage (no broker)', () => {
  const clock = new SystemClock();
  const base = { kafka: { NetworkError }, clock, where: "step 'out' (kafka sink, topic t)", step: 'out', brokers: ['127.0.0.1:1'] };

  it('backs off from 100 ms doubling to 1 s, and the client retries for about the timeout', () => {
    expect([0, 1, 2, 3, 4, 10].map(backoffMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(retriesFor(120_000)).toBe(4 + Math.ceil((120_000 - 1500) / 1000));
  });

  it('tells transient failures (no connection, retriable broker errors, time-outs) from others (a fenced producer, a user error)', () => {
    const kafka = { NetworkError };
    expect(isTransient(kafka, new NetworkError('Connection closed'))).toBe(true);
    expect(isTransient(kafka, new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS'))).toBe(true);
    expect(isTransient(kafka, new ProtocolError('NOT_COORDINATOR'))).toBe(true);
    expect(isTransient(kafka, new ProtocolError('PRODUCER_FENCED'))).toBe(false);
    expect(isTransient(kafka, new UserError('Unknown topic t.'))).toBe(false);
    expect(isTransient(kafka, new Error('Connection pool is closed.'))).toBe(false);
    // Aggregates are transient only if everything inside is.
    expect(isTransient(kafka, new AggregateError([new NetworkError('a'), new ProtocolError('NOT_COORDINATOR')]))).toBe(true);
    expect(isTransient(kafka, new AggregateError([new NetworkError('a'), new ProtocolError('PRODUCER_FENCED')]))).toBe(false);
  });

  it('retries a transient failure until it succeeds, and gives up with BROKER_UNAVAILABLE after the timeout', async () => {
    let calls = 0;
    await expect(rideOut('commit', async () => (++calls < 3 ? Promise.reject(new NetworkError('refused')) : 'ok'), { ...base, timeoutMs: 5000 })).resolves.toBe('ok');
    expect(calls).toBe(3);

    calls = 0;
    const e = await rideOut('commit', () => (calls++, Promise.reject(new NetworkError('refused'))), { ...base, timeoutMs: 500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SluiceError);
    expect((e as SluiceError).code).toBe('BROKER_UNAVAILABLE');
    expect((e as SluiceError).message).toContain("step 'out' (kafka sink, topic t) could not commit: no Kafka broker of 127.0.0.1:1 served it");
    expect((e as SluiceError).detail).toContain('refused');
    expect(calls).toBeGreaterThan(1); // tried again before giving up

    const fenced = new ProtocolError('PRODUCER_FENCED');
    await expect(rideOut('commit', () => Promise.reject(fenced), { ...base, timeoutMs: 5000 })).rejects.toBe(fenced);
  });

  it('stops retrying when the connector closes', async () => {
    const closing = new AbortController();
    const failure = new NetworkError('refused');
    const p = rideOut('commit', () => Promise.reject(failure), { ...base, timeoutMs: 60_000, signal: closing.signal });
    setTimeout(() => closing.abort(), 50);
    await expect(p).rejects.toBe(failure);
  });
});
