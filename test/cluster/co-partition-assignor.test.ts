/**
 * The cluster's task assignment and standby placement: balanced, sticky, drawn to warm
 * state, and the same answer on every member (fast-check over member sets and claims).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignTasks, coPartitionAssignor, memberProtocol } from '../../src/cluster/co-partition-assignor.js';
import { decodeClaims, encodeClaims, type MemberClaims } from '../../src/cluster/member-claims.js';
import { standbyPartitions } from '../../src/cluster/standby-placement.js';

const member = (key: string, owned: number[] = [], warm: number[] = []) => ({ key, claims: { id: key, owned, warm } satisfies MemberClaims });
const byMember = (owner: number[], m: number) => Array.from({ length: m }, (_, i) => owner.flatMap((o, p) => (o === i ? [p] : [])));

describe('task assignment', () => {
  it('with nothing claimed, deals partitions round the members in order', () => {
    expect(byMember(assignTasks(['a', 'b', 'c'].map((k) => member(k)), 7), 3)).toEqual([[0, 3, 6], [1, 4], [2, 5]]);
  });

  it('keeps every partition where it is when the members are the same (sticky)', () => {
    const owner = assignTasks([member('a', [1, 2]), member('b', [0, 3])], 4);
    expect(byMember(owner, 2)).toEqual([[1, 2], [0, 3]]);
  });

  it('gives a dead member’s partitions to the members that hold them warm, and moves only those', () => {
    // a owned 0,3; b owned 1,4; c owned 2,5 (and died). a holds 2 warm, b holds 5 warm.
    const owner = assignTasks([member('a', [0, 3], [2]), member('b', [1, 4], [5])], 6);
    expect(byMember(owner, 2)).toEqual([[0, 2, 3], [1, 4, 5]]);
  });

  it('swaps partitions so that a dead member’s task goes warm even when its standby holder is at its full share', () => {
    // c (owner of 3) died. a owns 0,1 and holds 3 warm; b owns 2 and holds 0 warm: a takes 3, b takes 0.
    const owner = assignTasks([member('a', [0, 1], [3]), member('b', [2], [0])], 4);
    expect(byMember(owner, 2)).toEqual([[1, 3], [0, 2]]);
  });

  it('a member that joins takes partitions from the most loaded, the rest stay', () => {
    const owner = assignTasks([member('a', [0, 2]), member('b', [1, 3]), member('c')], 4);
    expect(byMember(owner, 3)).toEqual([[0, 2], [1], [3]]);
  });

  it('every partition has one owner, the load is balanced (max − min ≤ 1), owned partitions stay, and none goes cold that a swap could keep warm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 24 }),
        fc.array(fc.tuple(fc.nat(7), fc.nat(7)), { maxLength: 40 }),
        (m, count, claims) => {
          const owned = Array.from({ length: m }, () => new Set<number>());
          const warm = Array.from({ length: m }, () => new Set<number>());
          // Each partition claimed as owned by at most one member (as in a real group); warm by any.
          const taken = new Set<number>();
          for (const [i, p] of claims) {
            if (p >= count) continue;
            if (!taken.has(p) && i % 2 === 0) {
              owned[i % m]!.add(p);
              taken.add(p);
            } else warm[i % m]!.add(p);
          }
          const members = Array.from({ length: m }, (_, i) => member(`m${i}`, [...owned[i]!], [...warm[i]!]));
          const owner = assignTasks(members, count);
          expect(owner.every((o) => o >= 0 && o < m)).toBe(true);
          const loads = byMember(owner, m).map((ps) => ps.length);
          expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
          // Without warm copies, a member keeps all it owned when that is within ⌊count/m⌋ (sticky).
          if (warm.every((w) => w.size === 0)) for (let i = 0; i < m; i++) if (owned[i]!.size <= Math.floor(count / m)) for (const p of owned[i]!) expect(owner[p]).toBe(i);
          // Nothing goes to a member without its state while another assignment would keep it warm: a partition a
          // member took without holding it was either held by nobody, or every holder's partitions are cold for it.
          const holds = (i: number, p: number) => owned[i]!.has(p) || warm[i]!.has(p);
          for (let p = 0; p < count; p++) {
            if (holds(owner[p]!, p)) continue;
            for (let x = 0; x < m; x++) if (x !== owner[p] && warm[x]!.has(p)) expect(owner.some((o, q) => o === x && holds(owner[p]!, q))).toBe(false);
          }
          // The same inputs, the same answer.
          expect(assignTasks(members, count)).toEqual(owner);
        },
      ),
    );
  });

  it('the assignor gives partition p of every topic to the same member, reading the claims from the subscriptions', () => {
    const sub = (claims: MemberClaims) => ({ memberId: `id-${claims.id}`, version: 2, topics: ['in', 'rep'], metadata: encodeClaims(claims) });
    const members = new Map([
      ['id-b', sub({ id: 'b', owned: [0, 2], warm: [] })],
      ['id-a', sub({ id: 'a', owned: [1], warm: [3] })],
    ]);
    const metadata = { topics: new Map([['in', { partitionsCount: 2 }], ['rep', { partitionsCount: 4 }]]) } as unknown as Parameters<typeof coPartitionAssignor>[3];
    const out = coPartitionAssignor('id-a', members, new Set(['in', 'rep']), metadata);
    const of = (id: string) => Object.fromEntries([...out.find((o) => o.memberId === id)!.assignments].map(([t, a]) => [t, a.partitions]));
    expect(of('id-a')).toEqual({ in: [1], rep: [1, 3] });
    expect(of('id-b')).toEqual({ in: [0], rep: [0, 2] });
  });

  it('reads an earlier member’s subscription (its instance id alone) as that id with nothing claimed', () => {
    expect(decodeClaims(Buffer.from('m7'))).toEqual({ id: 'm7', owned: [], warm: [] });
    expect(decodeClaims(undefined)).toEqual({ id: '', owned: [], warm: [] });
    expect(decodeClaims(memberProtocol('x').metadata)).toEqual({ id: 'x', owned: [], warm: [] });
    expect(decodeClaims('{"id":"q","owned":[1,"2",-1],"warm":"no"}')).toEqual({ id: 'q', owned: [1], warm: [] });
  });
});

describe('standby placement', () => {
  it('spreads each member’s partitions over all the others', () => {
    const members = [
      { key: 'a', partitions: [0, 3] },
      { key: 'b', partitions: [1, 4] },
      { key: 'c', partitions: [2, 5] },
    ];
    expect(standbyPartitions(members, 'a', 1)).toEqual([2, 4]);
    expect(standbyPartitions(members, 'b', 1)).toEqual([0, 5]);
    expect(standbyPartitions(members, 'c', 1)).toEqual([1, 3]);
    expect(standbyPartitions(members, 'a', 5)).toEqual([1, 2, 4, 5]); // at most M − 1 replicas
    expect(standbyPartitions(members, 'a', 0)).toEqual([]);
    expect(standbyPartitions([{ key: 'a', partitions: [0, 1] }], 'a', 1)).toEqual([]);
  });

  it('gives every partition exactly min(n, M − 1) replicas, none on its owner', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4 }), (m, count, n) => {
        const owner = assignTasks(Array.from({ length: m }, (_, i) => member(`m${i}`)), count);
        const members = byMember(owner, m).map((partitions, i) => ({ key: `m${i}`, partitions }));
        const replicas = new Array<number>(count).fill(0);
        for (const x of members) {
          for (const p of standbyPartitions(members, x.key, n)) {
            expect(x.partitions).not.toContain(p);
            replicas[p]!++;
          }
        }
        expect(replicas.every((r) => r === Math.min(n, m - 1))).toBe(true);
      }),
    );
  });
});
