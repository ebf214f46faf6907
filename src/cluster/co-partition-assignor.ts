import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka';
import { decodeClaims, encodeClaims, type MemberClaims } from './member-claims.js';

/** A member as the assignor sees it: its sort key (instance id, else member id) and its claims. */
export interface ClaimingMember {
  readonly key: string;
  readonly claims: MemberClaims;
}

/**
 * Which member owns each task partition 0..count-1, as an index into `members` (already
 * in their order). Balanced: every member gets ⌊count/M⌋ or ⌈count/M⌉ partitions. Within
 * that, a partition goes first to the member that owns it now (sticky: its state is
 * there, nothing moves), then to a member that holds a warm copy of its state (a standby
 * replica or local state files, the least loaded first), then to the least loaded member;
 * last, a partition that went to a member without its state is swapped, where it can be,
 * with a partition of a member that holds it warm.
 * Kafka Streams' assignor weighs the same things: where a task runs, where its state is
 * caught up, and balance. The same members with the same claims always give the same
 * answer.
 */
export function assignTasks(members: readonly ClaimingMember[], count: number): number[] {
  const m = members.length;
  const owner = new Array<number>(count).fill(-1);
  if (m === 0) return owner;
  const base = Math.floor(count / m);
  let extra = count % m; // how many members may still take one partition above `base`
  const load = new Array<number>(m).fill(0);
  const canTake = (i: number) => load[i]! < base || (load[i] === base && extra > 0);
  const take = (i: number, p: number) => {
    if (load[i] === base) extra--;
    load[i]!++;
    owner[p] = i;
  };
  const owned = members.map((x) => new Set(x.claims.owned));
  const warm = members.map((x) => new Set(x.claims.warm));
  for (let p = 0; p < count; p++) {
    const i = members.findIndex((_, j) => owned[j]!.has(p) && canTake(j));
    if (i >= 0) take(i, p);
  }
  const leastLoaded = (eligible: (i: number) => boolean) => {
    let best = -1;
    for (let i = 0; i < m; i++) if (eligible(i) && canTake(i) && (best < 0 || load[i]! < load[best]!)) best = i;
    return best;
  };
  for (let p = 0; p < count; p++) {
    if (owner[p]! >= 0) continue;
    const i = leastLoaded((j) => warm[j]!.has(p));
    if (i >= 0) take(i, p);
  }
  for (let p = 0; p < count; p++) if (owner[p]! < 0) take(leastLoaded(() => true), p);
  // A partition that went cold (its member neither owned it nor holds it warm) while a
  // member at its full share holds it warm: swap it for one of that member's partitions
  // that the first holds (owned or warm). Loads stay as they are, and nothing goes cold.
  const holds = (i: number, p: number) => owned[i]!.has(p) || warm[i]!.has(p);
  for (let p = 0; p < count; p++) {
    const y = owner[p]!;
    if (holds(y, p)) continue;
    for (let x = 0; x < m; x++) {
      if (x === y || !warm[x]!.has(p)) continue;
      const q = owner.findIndex((o, i) => o === x && holds(y, i));
      if (q < 0) continue;
      owner[p] = x;
      owner[q] = y;
      break;
    }
  }
  return owner;
}

/**
 * The cluster group's assignor: partition p of every subscribed topic goes to the same
 * member, so that a task (a sub-topology for one partition) gets partition p of each of
 * its co-partitioned input topics together (Kafka Streams' task assignment, which the
 * client's round robin does not keep). Which member owns p is {@link assignTasks}'s
 * answer from the members' claims (`member-claims.ts`): balanced, sticky, and drawn to
 * warm state. Members are ordered by their group instance id when they have one (static
 * membership), else by member id. A member that restarts under its instance id within the
 * session timeout does not even rebalance the group: it gets its partitions back.
 */
export const coPartitionAssignor: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const order = [...members.entries()]
    .map(([memberId, m]) => {
      const claims = decodeClaims(m.metadata);
      return { memberId, key: claims.id.length > 0 ? claims.id : memberId, claims };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: GroupPartitionsAssignments[] = order.map(({ memberId }) => ({ memberId, assignments: new Map() }));
  if (out.length === 0) return out;
  const counts = [...topics].map((topic) => [topic, metadata.topics.get(topic)?.partitionsCount ?? 0] as const);
  const owner = assignTasks(order, Math.max(0, ...counts.map(([, n]) => n)));
  for (const [topic, count] of counts) {
    for (let p = 0; p < count; p++) {
      const member = out[owner[p]!]!;
      let entry = member.assignments.get(topic);
      if (!entry) member.assignments.set(topic, (entry = { topic, partitions: [] }));
      entry.partitions.push(p);
    }
  }
  return out;
};

/** The name of the cluster group's protocol: a group that runs it is a Sluice cluster's (`sluice cluster status` checks it). */
export const MEMBER_PROTOCOL = 'sluice-copartition';

/** The group protocol a member subscribes with; the member updates its `metadata` (its claims) before each rejoin. */
export interface MemberProtocol {
  readonly name: string;
  readonly version: number;
  metadata: Buffer;
}

/** The group protocol a member subscribes with: its claims as user data (nothing owned or warm yet). */
export function memberProtocol(instanceId: string | undefined): MemberProtocol {
  return { name: MEMBER_PROTOCOL, version: 2, metadata: encodeClaims({ id: instanceId ?? '', owned: [], warm: [] }) };
}
