import { SluiceError } from '../../errors/index.js';
import type { KafkaClient, KafkaClientConnection } from './client.js';
import { kafkaErrorIds } from './transactions.js';
import { sinkTopicConfigs, type KafkaSinkTopic } from './sink-topic-spec.js';

/**
 * Creates the sink's topic with its declared partitions, replication and retention when it
 * does not exist. An existing topic is left as it is: it may be someone else's, and its
 * retention is theirs to set. Two writers opening together may race: the loser finds
 * TOPIC_ALREADY_EXISTS, which is fine.
 */
export async function ensureSinkTopic(kafka: KafkaClient, conn: KafkaClientConnection, clientId: string, topic: string, spec: KafkaSinkTopic): Promise<boolean> {
  const configs = sinkTopicConfigs(spec, topic);
  const admin = new kafka.Admin({ clientId, ...conn });
  try {
    if ((await admin.listTopics()).includes(topic)) return false;
    try {
      await admin.createTopics({ topics: [topic], partitions: spec.partitions ?? 1, replicas: spec.replicationFactor ?? 1, configs });
      return true;
    } catch (e) {
      if (kafkaErrorIds(e).includes('TOPIC_ALREADY_EXISTS')) return false;
      throw e;
    }
  } finally {
    await admin.close().catch(() => {});
  }
}
