/**
 * Cluster mode's internal topics against the real broker (`test/setup/kafka.ts`): the plan
 * cut at keyed exchanges, topics created as the job needs them, refusals when an existing
 * topic or the cluster's job disagrees.
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { Job, collectSink, count, fromCollection, kafkaSink, transactionalFileSink, tumbling, type Duration } from '../../src/index.js';
import { cutSubTopologies, ensureInternalTopics, internalTopicSpecs, jobFingerprint, registerJob } from '../../src/cluster/index.js';
import { SluiceError } from '../../src/errors/index.js';
import { INTERNAL_TOPICS_FORMAT } from '../../src/cluster/repartition-codec.js';
import { BROKERS } from '../connectors/kafka/helpers.js';

function windowJob(windowSize: Duration = '10s'): Job {
  const job = new Job({ name: 'cluster-topics' });
  job
    .source(fromCollection([{ user: 'a', page: 'p', at: 1 }]), { uid: 'clicks' })
    .map((c) => c, { uid: 'parse' })
    .keyBy('page')
    .window(tumbling(windowSize))
    .aggregate(count(), { uid: 'views' })
    .sinkTo(collectSink(), { uid: 'out' });
  return job;
}

async function describeTopic(name: string): Promise<{ partitions: number; policy: string | null | undefined }> {
  const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
  try {
    const md = await admin.metadata({ topics: [name], forceUpdate: true });
    const [config] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: name, configurationKeys: ['cleanup.policy'] }] });
    return { partitions: md.topics.get(name)!.partitionsCount, policy: config?.configs.find((c) => c.name === 'cleanup.policy')?.value };
  } finally {
    await admin.close();
  }
}

async function refusal(work: Promise<unknown>): Promise<SluiceError> {
  const e = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SluiceError);
  return e as SluiceError;
}

describe('cluster topology', () => {
  it('cuts the plan at the keyed exchange: a source sub-topology writes the repartition topic the keyed one reads', () => {
    const topology = cutSubTopologies(windowJob().graph, 'c1');
    expect(topology.subTopologies.map((s) => s.steps.map((n) => n.uid))).toEqual([
      ['clicks', 'parse'],
      ['views', 'out'],
    ]);
    expect(topology.repartitions.map((r) => [r.topic, r.from, r.into])).toEqual([['c1-views-repartition', 0, 1]]);
    expect([...topology.changelogs]).toEqual([['views', 'c1-views-changelog']]);
    expect(topology.meta).toBe('c1-meta');
  });

  it('fingerprints the graph: the same job twice agrees, another window size does not change it, another step does', () => {
    const layout = { maxParallelism: 128, partitions: 4 };
    expect(jobFingerprint(windowJob().graph, layout)).toBe(jobFingerprint(windowJob().graph, layout));
    expect(jobFingerprint(windowJob('1m').graph, layout)).toBe(jobFingerprint(windowJob().graph, layout));
    const other = new Job({ name: 'other' });
    other.source(fromCollection([1]), { uid: 'clicks' }).sinkTo(collectSink(), { uid: 'out' });
    expect(jobFingerprint(other.graph, layout)).not.toBe(jobFingerprint(windowJob().graph, layout));
    expect(jobFingerprint(windowJob().graph, { ...layout, partitions: 3 })).not.toBe(jobFingerprint(windowJob().graph, layout));
    // A Sluice that lays out its internal topics' records otherwise is another job to the cluster.
    expect(jobFingerprint(windowJob().graph, layout, INTERNAL_TOPICS_FORMAT + 1)).not.toBe(jobFingerprint(windowJob().graph, layout));
  });

  it('refuses, under exactly-once, a sink that cannot write in the members’ Kafka transactions', () => {
    const job = new Job({ name: 'eo', checkpoints: { interval: '1s', dir: '/tmp/unused' }, delivery: 'exactly-once' });
    job.source(fromCollection([1]), { uid: 'n' }).sinkTo(transactionalFileSink<number>('/tmp/unused-eo'), { uid: 'files' });
    expect(() => job.start({ cluster: { name: 'c', brokers: BROKERS } })).toThrow(expect.objectContaining({ code: 'CLUSTER_UNSUPPORTED', message: expect.stringMatching(/sink 'files' \(transactional-file\)/) }));
  });

  it('refuses to start a member from a savepoint: its state comes from the changelogs', () => {
    const job = new Job({ name: 'sp', checkpoints: { interval: '1s', dir: '/tmp/unused' } });
    job.source(fromCollection([1]), { uid: 'n' }).sinkTo(kafkaSink<number>({ brokers: BROKERS, topic: 'unused' }), { uid: 'out' });
    expect(() => job.start({ cluster: { name: 'c', brokers: BROKERS }, fromSavepoint: '/tmp/unused-sp' })).toThrow(expect.objectContaining({ code: 'CLUSTER_UNSUPPORTED' }));
  });

  it('refuses a cluster name that cannot be part of a topic name', () => {
    expect(() => cutSubTopologies(windowJob().graph, 'a b')).toThrow(/cannot be part of a Kafka topic name/);
  });
});

describe('cluster internal topics (real broker)', () => {
  it('creates repartition (delete), changelog (compacted) and meta topics, and accepts them on the next start', async () => {
    const cluster = `ct-${randomUUID().slice(0, 8)}`;
    const specs = internalTopicSpecs(cutSubTopologies(windowJob().graph, cluster), { partitions: 3, replicationFactor: 1 });
    await ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs);
    expect(await describeTopic(`${cluster}-views-repartition`)).toEqual({ partitions: 3, policy: 'delete' });
    expect(await describeTopic(`${cluster}-views-changelog`)).toEqual({ partitions: 3, policy: 'compact' });
    expect(await describeTopic(`${cluster}-meta`)).toEqual({ partitions: 1, policy: 'compact' });
    await ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs); // a second member: same topics, nothing to do
  });

  it('lets members that start together race to create the topics: every one of them starts', async () => {
    // CI once failed a three-member run here: the losers got TOPIC_ALREADY_EXISTS before the
    // broker listed the topic, and the job failed on it.
    for (let round = 0; round < 3; round++) {
      const cluster = `ct-${randomUUID().slice(0, 8)}`;
      const specs = internalTopicSpecs(cutSubTopologies(windowJob().graph, cluster), { partitions: 3, replicationFactor: 1 });
      await Promise.all(Array.from({ length: 4 }, () => ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs)));
      expect(await describeTopic(`${cluster}-views-changelog`)).toEqual({ partitions: 3, policy: 'compact' });
    }
  });

  it('refuses to start when an internal topic has another partition count (CLUSTER_TOPIC_MISMATCH)', async () => {
    const cluster = `ct-${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
    try {
      await admin.createTopics({ topics: [`${cluster}-views-repartition`], partitions: 2, replicas: 1 });
    } finally {
      await admin.close();
    }
    const specs = internalTopicSpecs(cutSubTopologies(windowJob().graph, cluster), { partitions: 3, replicationFactor: 1 });
    const e = await refusal(ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs));
    expect(e.code).toBe('CLUSTER_TOPIC_MISMATCH');
    expect(e.message).toContain(`'${cluster}-views-repartition' exists with 2 partitions where the job needs 3`);
  });

  it('refuses a changelog topic that is not compacted', async () => {
    const cluster = `ct-${randomUUID().slice(0, 8)}`;
    const admin = new Admin({ clientId: 'sluice-test', bootstrapBrokers: BROKERS });
    try {
      await admin.createTopics({ topics: [`${cluster}-views-changelog`], partitions: 3, replicas: 1 });
    } finally {
      await admin.close();
    }
    const specs = internalTopicSpecs(cutSubTopologies(windowJob().graph, cluster), { partitions: 3, replicationFactor: 1 });
    const e = await refusal(ensureInternalTopics({ bootstrapBrokers: BROKERS }, specs));
    expect(e.code).toBe('CLUSTER_TOPIC_MISMATCH');
    expect(e.message).toContain('cleanup.policy delete where the job needs compact');
  });

  it('registers the job fingerprint and refuses a different job under the same cluster name (CLUSTER_JOB_MISMATCH)', async () => {
    const cluster = `ct-${randomUUID().slice(0, 8)}`;
    const topology = cutSubTopologies(windowJob().graph, cluster);
    await ensureInternalTopics({ bootstrapBrokers: BROKERS }, internalTopicSpecs(topology, { partitions: 2, replicationFactor: 1 }));
    const layout = { maxParallelism: 128, partitions: 2 };
    const mine = jobFingerprint(windowJob().graph, layout);
    await registerJob({ bootstrapBrokers: BROKERS }, topology.meta, mine);
    await registerJob({ bootstrapBrokers: BROKERS }, topology.meta, mine); // another member of the same job
    const other = new Job({ name: 'other' });
    other.source(fromCollection([1]), { uid: 'clicks' }).sinkTo(collectSink(), { uid: 'out' });
    const e = await refusal(registerJob({ bootstrapBrokers: BROKERS }, topology.meta, jobFingerprint(other.graph, layout)));
    expect(e.code).toBe('CLUSTER_JOB_MISMATCH');
    expect(e.message).toContain(`the cluster '${cluster}' runs another job`);
    await registerJob({ bootstrapBrokers: BROKERS }, topology.meta, mine); // the cluster's own job still starts
  });
});
