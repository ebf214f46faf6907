import type { GroupAssignment, GroupPartitionsAssigner } from '@platformatic/kafka';

/** What a reader tells the group about itself (the member metadata of its subscription). */
export interface SplitOwner {
  readonly sluice: 1;
  readonly index: number;
  readonly parallelism: number;
  /** When the reader opened: of two members with one index (one of a failed attempt, not yet timed out), the newer wins. */
  readonly openedAt: number;
}

function ownerOf(metadata: Buffer | string | undefined): SplitOwner | undefined {
  try {
    const m = JSON.parse(metadata === undefined ? '' : metadata.toString()) as Partial<SplitOwner>;
    if (m.sluice === 1 && Number.isInteger(m.index) && Number.isInteger(m.parallelism) && typeof m.openedAt === 'number') return m as SplitOwner;
  } catch {
    // not a Sluice reader (or an older one): shares round robin
  }
  return undefined;
}

/**
 * The group's partition assignment, run by its leader. Readers of a parallel source
 * (parallelism above 1) own partitions by index: partition p goes to the newest member
 * with index p % P, and stays unassigned until that reader has joined; other members get
 * nothing. Without such readers (processes at parallelism 1, other clients), partitions
 * go round robin over the members, as the client does by default.
 */
export const splitAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const owners = [...members.values()].map((m) => ({ memberId: m.memberId, owner: ownerOf(m.metadata) }));
  const result = owners.map(({ memberId }) => ({ memberId, assignments: new Map<string, GroupAssignment>() }));
  const newest = owners.filter((o) => (o.owner?.parallelism ?? 1) > 1).sort((a, b) => b.owner!.openedAt - a.owner!.openedAt)[0];
  const give = (i: number, topic: string, partition: number) => {
    const a = result[i]!.assignments;
    let t = a.get(topic);
    if (!t) a.set(topic, (t = { topic, partitions: [] }));
    t.partitions.push(partition);
  };
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (newest) {
      const p = newest.owner!.parallelism;
      // Per index, the newest member of this parallelism.
      const byIndex = new Map<number, number>();
      owners.forEach((o, i) => {
        if (o.owner?.parallelism !== p) return;
        const seen = byIndex.get(o.owner.index);
        if (seen === undefined || owners[seen]!.owner!.openedAt < o.owner.openedAt) byIndex.set(o.owner.index, i);
      });
      for (let partition = 0; partition < count; partition++) {
        const i = byIndex.get(partition % p);
        if (i !== undefined) give(i, topic, partition);
      }
    } else {
      for (let partition = 0; partition < count; partition++) give(partition % owners.length, topic, partition);
    }
  }
  return result;
};
