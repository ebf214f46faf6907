/**
 * Event-time progress of a Kafka source, partition by partition (Flink's per-split
 * watermarks): each partition's watermark is the highest record timestamp seen in it
 * minus the allowed out-of-orderness, minus 1 ms (the bounded-out-of-orderness rule); the
 * source's watermark is the minimum over partitions that are not idle. A partition is idle
 * when it delivered nothing for `idleTimeoutMs` of processing time, so a quiet partition
 * never holds the others back; its first record makes it active again (its records may
 * then be late). A partition assigned but not yet heard from holds the watermark back
 * until it turns idle. Watermarks never move backwards: see `test/connectors/kafka/source.test.ts`.
 */
export class PartitionWatermarks {
  private readonly maxTs = new Map<number, number>();
  private readonly lastActive = new Map<number, number>();
  private emitted = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly outOfOrdernessMs: number,
    /** Infinity: a partition never turns idle. */
    private readonly idleTimeoutMs: number,
  ) {}

  /** The partitions being read now (from the group's assignment), as of processing time `now`. */
  assign(partitions: readonly number[], now: number): void {
    const keep = new Set(partitions);
    for (const p of [...this.lastActive.keys()]) if (!keep.has(p)) this.lastActive.delete(p);
    for (const p of [...this.maxTs.keys()]) if (!keep.has(p)) this.maxTs.delete(p);
    for (const p of partitions) if (!this.lastActive.has(p)) this.lastActive.set(p, now);
  }

  /** A record of `partition` with event time `ts`, read at processing time `now`. */
  observe(partition: number, ts: number, now: number): void {
    const m = this.maxTs.get(partition);
    if (m === undefined || ts > m) this.maxTs.set(partition, ts);
    this.lastActive.set(partition, now);
  }

  /** The source's watermark if it has moved forward since the last call, else undefined. */
  advance(now: number): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const [p, last] of this.lastActive) {
      if (now - last >= this.idleTimeoutMs) continue; // idle: does not hold the others back
      active++;
      const m = this.maxTs.get(p);
      if (m === undefined) return undefined; // active but nothing seen yet: hold back
      min = Math.min(min, m - this.outOfOrdernessMs - 1);
    }
    if (active === 0 || min <= this.emitted) return undefined;
    this.emitted = min;
    return min;
  }
}
