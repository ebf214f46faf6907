import type { Admin } from '@platformatic/kafka';
import { loadKafkaClient, type KafkaClientConnection } from '../connectors/kafka/client.js';
import type { ClusterFigures, ClusterFiguresSource, OwnedPartition, PartitionLag } from '../observe/cluster-figures.js';
import type { Clock } from '../time/clock.js';
import type { ChangelogStorage } from './changelog-storage.js';
import type { Assignment, ClusterMember } from './member.js';
import { committedOffsets, endOffsets, partitionKey, partitionLag } from './partition-offsets.js';

/**
 * A member's figures for its `/metrics` and REST API: its tasks, rebalances and restores
 * are read from the member and its changelog storage as they stand (plain fields the
 * member keeps as events happen); its consumer lag is asked of the brokers at each read,
 * with the same offsets `sluice cluster status` reads (`partition-offsets.ts`), through an
 * Admin client made for that read and closed after it.
 */
export class MemberFigures implements ClusterFiguresSource {
  private member: ClusterMember | undefined;
  /** The lag read in flight: scrapes that come meanwhile share it rather than open more clients. */
  private asking: Promise<readonly PartitionLag[]> | undefined;

  constructor(
    readonly cluster: string,
    private readonly connection: Promise<KafkaClientConnection>,
    member: Promise<ClusterMember>,
    private readonly storage: ChangelogStorage,
    /** The cluster's repartition topics: every other topic a member reads is a source topic. */
    private readonly repartitions: ReadonlySet<string>,
    private readonly clock: Clock,
    /** The task partitions the member follows as a standby. */
    private readonly standbys: () => readonly number[] = () => [],
  ) {
    // A member that never joins (refused, brokers gone) has no figures: the job fails with the reason.
    member.then((m) => (this.member = m)).catch(() => {});
  }

  figures(): ClusterFigures | undefined {
    const member = this.member;
    if (member === undefined) return undefined;
    return {
      member: member.name,
      tasks: this.owned(member.assignment),
      rebalances: member.rebalances,
      lastRebalanceMs: member.lastRebalanceMs,
      restoring: this.storage.restoring,
      restored: { ...this.storage.restoredTotal },
      standbys: [...this.standbys()],
    };
  }

  lag(timeoutMs: number): Promise<readonly PartitionLag[]> {
    return (this.asking ??= this.askLag(timeoutMs).finally(() => (this.asking = undefined)));
  }

  private async askLag(timeoutMs: number): Promise<readonly PartitionLag[]> {
    const member = this.member;
    if (member === undefined) return [];
    const assignment = member.assignment;
    const owned = this.owned(assignment);
    if (owned.length === 0) return [];
    let over = false;
    let admin: Admin | undefined;
    const read = (async () => {
      const kafka = await loadKafkaClient(); // within the timeout: its first load takes a while
      if (over) return [];
      // No retries: a scrape wants an answer now, and the next scrape asks again.
      admin = new kafka.Admin({ clientId: `sluice-${this.cluster}-${member.name}-lag`, ...(await this.connection), retries: 0, connectTimeout: timeoutMs });
      const [ends, committed] = await Promise.all([endOffsets(admin, assignment), committedOffsets(admin, this.cluster, assignment)]);
      return owned.flatMap((p) => {
        const key = partitionKey(p.topic, p.partition);
        const end = ends.get(key);
        const lag = end === undefined ? undefined : partitionLag(end, committed.get(key));
        return lag === undefined ? [] : [{ ...p, lag }];
      });
    })();
    let cancel = () => {};
    const timeout = new Promise<'timeout'>((resolve) => (cancel = this.clock.schedule(this.clock.now() + timeoutMs, () => resolve('timeout'))));
    const answer = await Promise.race([read.catch(() => 'failed' as const), timeout]);
    over = true;
    cancel();
    // Not closeQuietly: an Admin's close takes a callback, not `force`. After a timeout the
    // scrape does not wait for it: closing a connection still being made waits for it.
    const closing = admin?.close().catch(() => {});
    if (answer === 'timeout') return [];
    await closing;
    return answer === 'failed' ? [] : answer;
  }

  /** The partitions of `assignment` with their role, by topic then partition. */
  private owned(assignment: Assignment): OwnedPartition[] {
    return [...assignment]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition, role: this.repartitions.has(topic) ? ('repartition' as const) : ('source' as const) })));
  }
}
