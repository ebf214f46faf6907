import type { KafkaSaslOptions } from '../connectors/kafka/connection.js';
import type { TlsOptions } from '../net/tls.js';
import type { Duration } from '../time/duration.js';

/**
 * How a job runs as one member of a cluster (`Job.run({ cluster })`, `sluice run --cluster`).
 * Kept apart from the cluster's code so that the package's main declarations name no
 * Kafka client type: the client is an optional peer dependency.
 */
export interface ClusterOptions {
  /** The cluster's name: its consumer group and the prefix of its internal topics. */
  name: string;
  /** Bootstrap brokers, `'host:port'` (an array or a comma-separated string). */
  brokers: string | readonly string[];
  /**
   * TLS to the brokers, as a Kafka source's `tls` (every client of the member uses it:
   * group, transactions, changelogs, standbys). Default: the job's Kafka sources' `tls`
   * when they have one, else plaintext.
   */
  tls?: TlsOptions | boolean;
  /** SASL authentication to the brokers, as a Kafka source's `sasl`. Default: the job's Kafka sources' `sasl`, else none. */
  sasl?: KafkaSaslOptions;
  /** Partitions of the repartition and changelog topics (default: the most partitions of the job's Kafka source topics). */
  partitions?: number;
  /** Replication factor of the internal topics (default 1). */
  replicationFactor?: number;
  /**
   * How long a producing task without partitioned input (fed by a non-Kafka source) may
   * stay silent before it stops holding watermarks back (default 10 s). Tasks that read
   * Kafka partitions are never let go by silence: the member that takes their partitions
   * over speaks for them.
   */
  idleTimeout?: Duration;
  /** Session timeout of the cluster's group (default 10 s): how soon the tasks of a member that died move. */
  sessionTimeout?: Duration;
  /**
   * This member's stable name (`--member NAME`): its `group.instance.id` (static
   * membership: a member that restarts under it within the session timeout gets its tasks
   * back and moves nothing) and its transactional id (a restart fences what the crashed
   * process left open). Default: a random name, a new member at each start.
   */
  member?: string;
  /** How long the broker keeps a member's transaction open before aborting it (default 10 s, as Kafka Streams under exactly-once). */
  transactionTimeout?: Duration;
  /**
   * Standby replicas per task (`--standbys N`, default 0, as Kafka Streams'
   * `num.standby.replicas`): warm copies of each task's state kept on N other members, so
   * that when its owner dies the task moves to a member that holds it, without reading
   * the changelog. Each replica reads its task's changelog partition after every commit.
   */
  standbys?: number;
  /**
   * Where the member keeps copies of its tasks' state on disk (`--state-dir`, default
   * `<tmpdir>/sluice-cluster`), in `<dir>/<cluster>/<member>`: a member restarted under the
   * same `member` name takes its tasks' state from there when nothing was committed to
   * their changelogs since, and its standby replicas live there. A member without a
   * `member` name deletes its directory when it stops (nobody could reuse it).
   */
  stateDir?: string;
}
