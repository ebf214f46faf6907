import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka';

/**
 * The cluster group's assignor: partition p of every subscribed topic goes to the same
 * member, so that a task (a sub-topology for one partition) gets partition p of each of
 * its co-partitioned input topics together (Kafka Streams' task assignment, which the
 * client's round robin does not keep). Members are ordered by their group instance id
 * when they have one (static membership), else by member id; member i of M takes the
 * partitions p with p % M = i. The same member set always gives the same assignment, and
 * a member that restarts under its instance id within the session timeout gets its
 * partitions back, with its state (no movement).
 */
export const coPartitionAssignor: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const order = [...members.entries()]
    .map(([memberId, m]) => ({ memberId, sortKey: m.metadata && m.metadata.length > 0 ? m.metadata.toString() : memberId }))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  const out: GroupPartitionsAssignments[] = order.map(({ memberId }) => ({ memberId, assignments: new Map() }));
  if (out.length === 0) return out;
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let p = 0; p < count; p++) {
      const member = out[p % out.length]!;
      let entry = member.assignments.get(topic);
      if (!entry) member.assignments.set(topic, (entry = { topic, partitions: [] }));
      entry.partitions.push(p);
    }
  }
  return out;
};

/** The name of the cluster group's protocol: a group that runs it is a Sluice cluster's (`sluice cluster status` checks it). */
export const MEMBER_PROTOCOL = 'sluice-copartition';

/** The group protocol a member subscribes with: its sort key (its instance id, or empty for its member id) as user data. */
export function memberProtocol(instanceId: string | undefined): { name: string; version: number; metadata: Buffer } {
  return { name: MEMBER_PROTOCOL, version: 1, metadata: Buffer.from(instanceId ?? '') };
}
