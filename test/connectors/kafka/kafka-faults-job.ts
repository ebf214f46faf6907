/**
 * The Kafka fault test's job (also run by `bench/kafka-faults.ts`): Kafka → count per key
 * (a running reduce: `{ key, n }` after every record) → Kafka, with checkpoints every
 * 500 ms. Its output, exactly-once, is the multiset `{ key, n }` for n = 1..count(key),
 * each once: a lost record leaves a gap, a doubled one a repeat.
 */
import { Job, kafkaSink, kafkaSource } from '../../../src/index.js';

export interface FaultsFixture {
  readonly brokers: string;
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly delivery: 'exactly-once' | 'at-least-once';
  /** Checkpoint directory (the caller removes it). */
  readonly checkpointDir: string;
  /** The connectors' `brokerUnavailableTimeout` (ms; default theirs, 2 minutes). */
  readonly brokerUnavailableTimeout?: number;
  /** Restarts the policy allows (default {@link RESTART_ATTEMPTS}). */
  readonly restartAttempts?: number;
}

/** The job's restart policy: the default one with checkpoints (3 restarts, 1 s apart), spelled out for the test. */
export const RESTART_ATTEMPTS = 3;

export interface Probe {
  /** Records out of the count step so far (this process, all attempts). */
  count: number;
}

export function buildFaultsJob(o: FaultsFixture, onOutput?: (n: number) => void): { job: Job; probe: Probe } {
  const probe: Probe = { count: 0 };
  const job = new Job({
    name: 'kafka-faults',
    batchSize: 256,
    checkpoints: { interval: '500ms', dir: o.checkpointDir },
    delivery: o.delivery,
    restart: o.restartAttempts === 0 ? { strategy: 'none' } : { strategy: 'fixed-delay', attempts: o.restartAttempts ?? RESTART_ATTEMPTS, delay: '1s' },
  });
  const timeout = o.brokerUnavailableTimeout === undefined ? {} : { brokerUnavailableTimeout: o.brokerUnavailableTimeout };
  job
    .source(kafkaSource<{ key: string; i: number }>({ brokers: o.brokers, topic: o.input, groupId: o.groupId, bounded: true, ...timeout }), { uid: 'in' })
    .map((r) => ({ key: r.key, n: 1 }))
    .keyBy((r) => r.key)
    .reduce((a, b) => ({ key: a.key, n: a.n + b.n }), { uid: 'count' })
    .map((r) => {
      probe.count++;
      onOutput?.(probe.count);
      return r;
    })
    .sinkTo(kafkaSink<{ key: string; n: number }>({ brokers: o.brokers, topic: o.output, key: (r) => r.key, ...timeout }), { uid: 'out' });
  return { job, probe };
}

/** The job's input: record j has key `k${j % keys}` (the Kafka key too, so a key stays in one partition). */
export function inputRecords(records: number, keys: number): Array<{ key: string; value: string }> {
  return Array.from({ length: records }, (_, j) => ({ key: `k${j % keys}`, value: JSON.stringify({ key: `k${j % keys}`, i: j }) }));
}

/**
 * The output (record values as written) against what the job must write for `inputRecords(records, keys)`:
 * `{ key, n }` for n = 1..count(key), each once. `missing` counts what is not there,
 * `doubled` what is there more than once (or should not be there at all).
 */
export function diffOutput(values: readonly string[], records: number, keys: number): { missing: number; doubled: number } {
  const want = new Map<string, number>();
  for (let k = 0; k < keys; k++) {
    const count = Math.floor(records / keys) + (k < records % keys ? 1 : 0);
    for (let n = 1; n <= count; n++) want.set(JSON.stringify({ key: `k${k}`, n }), 1);
  }
  const seen = new Map<string, number>();
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
  let missing = 0;
  let doubled = 0;
  for (const [v, w] of want) missing += Math.max(0, w - (seen.get(v) ?? 0));
  for (const [v, c] of seen) doubled += c - Math.min(c, want.get(v) ?? 0);
  return { missing, doubled };
}
