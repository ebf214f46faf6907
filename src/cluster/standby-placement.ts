/** A member of the group as standby placement sees it: its sort key and the task partitions it owns. */
export interface OwningMember {
  readonly key: string;
  readonly partitions: readonly number[];
}

/**
 * The task partitions of which member `self` keeps standby replicas, when every task
 * should have `replicas` of them on members other than its owner (Kafka Streams'
 * `num.standby.replicas`). Members are taken in order of their keys, in a ring: the j-th
 * partition of member i (in partition order) gets its replicas on the members at ring
 * distance 1 + ((j + r) mod (M − 1)), r = 0 … replicas − 1. Spreading each member's
 * partitions over all the others, rather than handing them all to its neighbour, means
 * that when a member dies every survivor holds some of its tasks warm, and the assignor,
 * which balances the load, can give each of them its share without a cold restore.
 * Every member computes the same placement from the same group description.
 */
export function standbyPartitions(members: readonly OwningMember[], self: string, replicas: number): number[] {
  const ring = [...members].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const m = ring.length;
  const me = ring.findIndex((x) => x.key === self);
  const n = Math.min(Math.max(0, Math.floor(replicas)), m - 1);
  if (me < 0 || n === 0) return [];
  const out: number[] = [];
  ring.forEach((owner, i) => {
    if (i === me) return;
    const distance = (me - i + m) % m; // where `self` sits in the ring, seen from the owner
    [...owner.partitions]
      .sort((a, b) => a - b)
      .forEach((p, j) => {
        for (let r = 0; r < n; r++) if (1 + ((j + r) % (m - 1)) === distance) out.push(p);
      });
  });
  return out.sort((a, b) => a - b);
}
