/**
 * Which partition of a repartition topic a key goes to, in each engine: Kafka Streams by
 * the murmur2 hash of the key's bytes (its default stream partitioner, as the Java
 * producer's), Sluice by key group (`repartitionPartition`). The benchmark needs both to
 * make closing records that reach every task of either engine, and to tell which output
 * windows a killed member's tasks own.
 */
import { murmur2 } from '@platformatic/kafka';
import { repartitionPartition } from '../../src/cluster/repartition-codec.js';
import { DEFAULT_MAX_PARALLELISM } from '../../src/state/key-groups.js';

/** Kafka Streams' partition of a string key (Utils.toPositive(Utils.murmur2(bytes)) % partitions). */
export function kafkaStreamsPartition(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key), false) & 0x7fffffff) % partitions;
}

/** Sluice's partition of a key in a cluster whose job keeps the default max parallelism. */
export function sluicePartition(key: string, partitions: number): number {
  return repartitionPartition(key, partitions, DEFAULT_MAX_PARALLELISM);
}

/**
 * The fewest keys `<prefix>0`, `<prefix>1`, … that together reach every partition in both
 * engines: a closing record per such key (in every input partition) advances the event
 * time of every task of either.
 */
export function keysReachingEveryPartition(prefix: string, partitions: number): string[] {
  const ks = new Set<number>();
  const sluice = new Set<number>();
  const keys: string[] = [];
  for (let i = 0; ks.size < partitions || sluice.size < partitions; i++) {
    const key = `${prefix}${i}`;
    const a = kafkaStreamsPartition(key, partitions);
    const b = sluicePartition(key, partitions);
    if (ks.has(a) && sluice.has(b)) continue;
    ks.add(a);
    sluice.add(b);
    keys.push(key);
  }
  return keys;
}
