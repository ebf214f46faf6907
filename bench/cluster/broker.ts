/**
 * What the cluster benchmark asks the broker: topics made and removed, end offsets, a
 * consumer group's committed offsets and members. One admin client and one consumer (for
 * offset lookups) for the whole run.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer } from '@platformatic/kafka';
import { closeQuietly } from '../../src/connectors/kafka/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the project's broker with scripts/kafka/start.sh when none answers (a no-op otherwise). */
export function ensureBroker(): void {
  const r = spawnSync('bash', [`${root}scripts/kafka/start.sh`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/kafka/start.sh failed');
}

/** Partition → offset. */
export type Offsets = Map<number, number>;

export class Broker {
  private readonly admin: Admin;
  private readonly offsets: Consumer<Buffer, Buffer, Buffer, Buffer>;

  constructor(readonly brokers: string) {
    this.admin = new Admin({ clientId: 'sluice-ksbench', bootstrapBrokers: [brokers] });
    this.offsets = new Consumer({ clientId: 'sluice-ksbench', bootstrapBrokers: [brokers], groupId: `ksbench-offsets-${randomUUID()}` });
  }

  async createTopics(topics: string[], partitions: number): Promise<void> {
    await this.admin.createTopics({ topics, partitions, replicas: 1 });
  }

  /** Deletes every topic whose name starts with one of `prefixes` (a run's own topics and its engine's internal ones). */
  async deleteTopics(prefixes: string[]): Promise<void> {
    const all = await this.admin.listTopics();
    const doomed = all.filter((t) => prefixes.some((p) => t.startsWith(p)));
    if (doomed.length > 0) await this.admin.deleteTopics({ topics: doomed });
  }

  /** The end offsets of `topic` per partition; `committed`: the last stable offsets (what read_committed readers can reach). */
  async endOffsets(topic: string, committed = false): Promise<Offsets> {
    const listed = await this.offsets.listOffsets({ topics: [topic], isolationLevel: committed ? 1 : 0 });
    return new Map((listed.get(topic) ?? []).map((o, p) => [p, Number(o)]));
  }

  /** The offsets `group` has committed on `topic` (partitions without a commit are absent). */
  async committedOffsets(group: string, topic: string): Promise<Offsets> {
    const [g] = await this.admin.listConsumerGroupOffsets({ groups: [group] });
    const t = g?.topics.find((x) => x.name === topic);
    return new Map((t?.partitions ?? []).filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, Number(p.committedOffset)]));
  }

  /** The partitions of `topic` each member of `group` holds, by its instance id (else member id). */
  async assignments(group: string, topic: string): Promise<Map<string, number[]>> {
    const groups = await this.admin.describeGroups({ groups: [group] });
    const out = new Map<string, number[]>();
    for (const m of groups.get(group)?.members.values() ?? []) {
      out.set(m.groupInstanceId ?? m.id, [...(m.assignments?.get(topic)?.partitions ?? [])].sort((a, b) => a - b));
    }
    return out;
  }

  async close(): Promise<void> {
    await closeQuietly(this.offsets);
    await this.admin.close().catch(() => {});
  }
}

/** Whether `group` has committed at least `ends` on every partition. */
export function reached(committed: Offsets, ends: Offsets): boolean {
  for (const [p, end] of ends) if ((committed.get(p) ?? 0) < end) return false;
  return true;
}
