/**
 * What a member tells its group when it joins (the user data of its subscription): its
 * stable name, which orders the members, and the tasks whose state it holds: the
 * partitions it owns now, and those of which it keeps a warm copy (a standby replica, or
 * state files a restart left on its disk). The group's leader reads every member's claims
 * to assign tasks where their state already is (`co-partition-assignor.ts`), as Kafka
 * Streams' assignor reads its members' task offsets.
 */
export interface MemberClaims {
  /** The member's instance id (static membership), empty when it has none: then its member id orders it. */
  readonly id: string;
  /** Task partitions the member owns in its current assignment. */
  readonly owned: readonly number[];
  /** Task partitions whose state the member holds a copy of without owning them. */
  readonly warm: readonly number[];
}

/** The claims as the member's subscription carries them (JSON). */
export function encodeClaims(claims: MemberClaims): Buffer {
  return Buffer.from(JSON.stringify({ id: claims.id, owned: claims.owned, warm: claims.warm }));
}

function partitionList(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((p): p is number => Number.isInteger(p) && p >= 0) : [];
}

/**
 * A member's claims from its subscription's user data. A member of an earlier Sluice sent
 * only its instance id as the user data: read as that id with nothing claimed.
 */
export function decodeClaims(userData: Buffer | string | null | undefined): MemberClaims {
  const text = userData === null || userData === undefined ? '' : userData.toString();
  if (text.startsWith('{')) {
    try {
      const c = JSON.parse(text) as { id?: unknown; owned?: unknown; warm?: unknown };
      return { id: typeof c.id === 'string' ? c.id : '', owned: partitionList(c.owned), warm: partitionList(c.warm) };
    } catch {
      // not claims: an id that happens to start with a brace
    }
  }
  return { id: text, owned: [], warm: [] };
}
