/**
 * The Kafka source at parallelism above 1, on the real broker: readers on worker threads,
 * each owning the partitions p % P = its index, and checkpoints that restore at another
 * parallelism (positions merged per partition, each new reader seeking its own).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupPartitionsAssigner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { mergePositions } from '../../../src/connectors/kafka/position.js';
import { splitAssigner } from '../../../src/connectors/kafka/split-assigner.js';
import { buildKafkaParallel, type KafkaParallelFixture } from './parallel-job.js';
import { freshTopic, produce } from './helpers.js';

const N = 4000;
const ids = (xs: number[]) => [...xs].sort((a, b) => a - b);
const all = Array.from({ length: N }, (_, i) => i);

async function topicOf(partitions: number): Promise<string> {
  const topic = await freshTopic('parallel', partitions);
  await produce(topic, all.map((i) => ({ value: JSON.stringify({ i }), partition: i % partitions })));
  return topic;
}
function start(o: KafkaParallelFixture, fromSavepoint?: string) {
  const b = buildKafkaParallel(o);
  return { ...b, running: b.job.start({ moduleArgs: [JSON.stringify(o)], fromSavepoint }) };
}
/** Waits for `cond`, or fails with the job when it ends first. */
async function until(cond: () => boolean, running: { done: Promise<unknown> }): Promise<void> {
  let ended: unknown;
  running.done.then(
    () => (ended ??= new Error('the job ended first')),
    (e: unknown) => (ended ??= e),
  );
  while (!cond()) {
    if (ended !== undefined) throw ended;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('kafkaSource in parallel (real broker, worker threads)', () => {
  it('two readers split the partitions and read every record exactly once', async () => {
    const topic = await topicOf(4);
    const o: KafkaParallelFixture = { topic, groupId: `g-${randomUUID()}`, parallelism: 2, bounded: true };
    const { job, out } = buildKafkaParallel(o);
    expect(job.explain()).toMatch(/task \d+ x2[\s\S]*in/);
    const running = job.start({ moduleArgs: [JSON.stringify(o)] });
    await running.done;
    expect(ids(out.values)).toEqual(all);
    // Both readers read: records out of the source per subtask.
    const readers = running.monitor.metrics.snapshot().steps.filter((s) => s.uid === 'in');
    expect(readers.map((s) => s.recordsOut)).toEqual([N / 2, N / 2]);
  }, 90_000);

  it('a savepoint at parallelism 2 restores at 3, and one at 3 at 1: every record once, none lost', async () => {
    const topic = await topicOf(6);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-rescale-'));
    const base = { topic, groupId: `g-${randomUUID()}`, dir, slow: 20 };
    const first = start({ ...base, parallelism: 2, bounded: false });
    await until(() => first.out.values.length >= 600, first.running);
    await first.running.stopWithSavepoint(join(dir, 'sp1'));

    const second = start({ ...base, parallelism: 3, bounded: false }, join(dir, 'sp1'));
    await until(() => second.out.values.length >= 600, second.running);
    await second.running.stopWithSavepoint(join(dir, 'sp2'));

    const third = start({ ...base, parallelism: 1, bounded: true, slow: 0 }, join(dir, 'sp2'));
    await third.running.done;
    // Records after a savepoint's barrier may be emitted twice (before the stop, and after
    // the restore): compare as sets; a lost record would leave a gap.
    const union = new Set([...first.out.values, ...second.out.values, ...third.out.values]);
    expect(ids([...union])).toEqual(all);
    expect(second.out.values.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('Kafka split assignment and positions', () => {
  const metadata = { topics: new Map([['t', { partitionsCount: 5 }]]) } as unknown as Parameters<GroupPartitionsAssigner>[3];
  const member = (memberId: string, owner?: object) => [memberId, { memberId, version: 1, metadata: owner && Buffer.from(JSON.stringify({ sluice: 1, ...owner })) }] as const;
  const assign = (members: ReadonlyArray<ReturnType<typeof member>>) =>
    Object.fromEntries(splitAssigner('', new Map(members) as never, new Set(['t']), metadata).map((m) => [m.memberId, m.assignments.get('t')?.partitions ?? []]));

  it('readers of a parallel source own partitions by index; the newest member of an index wins; a missing reader leaves its partitions unassigned', () => {
    expect(assign([member('a', { index: 0, parallelism: 2, openedAt: 1 }), member('b', { index: 1, parallelism: 2, openedAt: 2 })])).toEqual({ a: [0, 2, 4], b: [1, 3] });
    expect(
      assign([member('old', { index: 0, parallelism: 3, openedAt: 1 }), member('new', { index: 0, parallelism: 3, openedAt: 5 }), member('c', { index: 2, parallelism: 3, openedAt: 4 })]),
    ).toEqual({ old: [], new: [0, 3], c: [2] });
  });

  it('members at parallelism 1 (processes sharing a group) and other clients share round robin', () => {
    expect(assign([member('a', { index: 0, parallelism: 1, openedAt: 1 }), member('b'), member('c', { index: 0, parallelism: 1, openedAt: 3 })])).toEqual({
      a: [0, 3],
      b: [1, 4],
      c: [2],
    });
  });

  it('positions of readers of another parallelism merge to the highest next offset per partition, without a group member', () => {
    expect(mergePositions([{ offsets: { '0': 10, '1': 4 }, member: 'a' }, undefined, { offsets: { '1': 7, '2': 3 }, member: 'b' }])).toEqual({ offsets: { '0': 10, '1': 7, '2': 3 } });
    // Checkpoints from before the member was kept hold the offsets alone.
    expect(mergePositions([{ '0': 10, '1': 4 }, { offsets: { '1': 7 }, member: 'b' }])).toEqual({ offsets: { '0': 10, '1': 7 } });
  });
});
