import type { Client } from 'cassandra-driver';

/** A column of a table's partition key: its name and the driver's type descriptor. */
export interface PartitionColumn {
  readonly name: string;
  readonly type: unknown;
}

interface ValueEncoder {
  encode(value: unknown, type: unknown): Buffer | null;
}

/**
 * Groups rows by the replicas that own their partition (token-aware batching): each group
 * can go as one UNLOGGED batch to a coordinator that is a replica of every row in it, so
 * no statement takes an extra hop inside the cluster. The routing key is serialised as
 * Cassandra does (one component: its bytes; several: each length-prefixed and followed by
 * a zero byte) and hashed by the driver's own token map (`Client.getReplicas`).
 */
export class ReplicaGrouper {
  private readonly encoder: ValueEncoder;

  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly columns: readonly PartitionColumn[],
    /** Where each partition-key column is in a row. */
    private readonly indexes: readonly number[],
    Encoder: new (protocolVersion: number, options: unknown) => ValueEncoder,
  ) {
    // Values of the types a primary key can have encode the same under every protocol from v3 on.
    this.encoder = new Encoder(4, (client as unknown as { options: unknown }).options);
  }

  /** Items grouped by the replica set of their row (one whose key cannot be routed goes to the '' group, sent as it comes). */
  group<I>(items: Iterable<I>, rowOf: (item: I) => readonly unknown[]): Map<string, I[]> {
    const groups = new Map<string, I[]>();
    for (const item of items) {
      const g = this.replicasOf(rowOf(item));
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(item);
    }
    return groups;
  }

  /** The serialised partition key of a row, as the cluster hashes it; undefined when a value cannot be encoded. */
  routingKey(row: readonly unknown[]): Buffer | undefined {
    try {
      const parts = this.indexes.map((i, c) => this.encoder.encode(row[i], this.columns[c]!.type));
      if (parts.some((p) => p === null)) return undefined;
      return parts.length === 1 ? parts[0]! : composite(parts as Buffer[]);
    } catch {
      return undefined; // the server will say what is wrong with the value, with the batch that holds it
    }
  }

  private replicasOf(row: readonly unknown[]): string {
    const key = this.routingKey(row);
    const hosts = key && this.client.getReplicas(this.keyspace, key);
    if (!hosts || hosts.length === 0) return '';
    return hosts.map((h) => h.address).sort().join(',');
  }
}

function composite(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    out.push(len, p, Buffer.alloc(1));
  }
  return Buffer.concat(out);
}
