/**
 * Event time of a consuming task of a repartition topic. Every producing task writes
 * watermark markers into every partition; per partition, the watermark is the minimum
 * over the producers heard from that are active; over the task's partitions, the minimum
 * again over partitions that have an active producer. A producer is idle when it said so
 * (an idle marker) or when nothing came from it for `idleTimeoutMs` of processing time;
 * hearing from it again (a record or a marker) makes it active, and it holds the others
 * back from then on (its records may be late meanwhile, as with an idle source partition).
 * An assigned partition not yet heard from holds the watermark back until it has been
 * silent for the idle timeout. Watermarks never move backwards, per producer and overall:
 * `test/cluster/watermark-merger.test.ts` checks all of it against a plain model.
 */
export class ProducerWatermarks {
  /** partition -> producer -> its state. */
  private readonly producers = new Map<number, Map<string, { watermark: number; heard: number; idle: boolean }>>();
  /** partition -> when it was assigned (or last heard from anything). */
  private readonly assignedAt = new Map<number, number>();
  private emitted = Number.NEGATIVE_INFINITY;

  /** Infinity: producers never turn idle by silence (only by an idle marker). */
  constructor(private readonly idleTimeoutMs: number) {}

  /** The partitions this task reads now, as of processing time `now`. Partitions it no longer reads are forgotten. */
  assign(partitions: readonly number[], now: number): void {
    const keep = new Set(partitions);
    for (const p of [...this.assignedAt.keys()]) {
      if (!keep.has(p)) {
        this.assignedAt.delete(p);
        this.producers.delete(p);
      }
    }
    for (const p of partitions) if (!this.assignedAt.has(p)) this.assignedAt.set(p, now);
  }

  private producer(partition: number, task: string, now: number) {
    let byTask = this.producers.get(partition);
    if (!byTask) this.producers.set(partition, (byTask = new Map()));
    let s = byTask.get(task);
    if (!s) byTask.set(task, (s = { watermark: Number.NEGATIVE_INFINITY, heard: now, idle: false }));
    return s;
  }

  /** A data record from `task` in `partition`: the producer is active. */
  record(partition: number, task: string, now: number): void {
    if (!this.assignedAt.has(partition)) return;
    const s = this.producer(partition, task, now);
    s.heard = now;
    s.idle = false;
  }

  /** A watermark marker from `task` in `partition`. */
  marker(partition: number, task: string, watermark: number, idle: boolean, now: number): void {
    if (!this.assignedAt.has(partition)) return;
    const s = this.producer(partition, task, now);
    if (watermark > s.watermark) s.watermark = watermark;
    s.heard = now;
    s.idle = idle;
  }

  /** The merged watermark now, or undefined when nothing holds it (every partition idle) or a partition holds it back unknown. */
  current(now: number): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const [p, assigned] of this.assignedAt) {
      const byTask = this.producers.get(p);
      let partitionMin = Number.POSITIVE_INFINITY;
      let producersActive = 0;
      for (const s of byTask?.values() ?? []) {
        if (s.idle || now - s.heard >= this.idleTimeoutMs) continue;
        producersActive++;
        partitionMin = Math.min(partitionMin, s.watermark);
      }
      if (producersActive === 0) {
        // Never heard from and not yet idle: we cannot know its event time.
        if ((byTask?.size ?? 0) === 0 && now - assigned < this.idleTimeoutMs) return undefined;
        continue;
      }
      active++;
      min = Math.min(min, partitionMin);
    }
    return active === 0 ? undefined : min;
  }

  /** The merged watermark if it moved forward since the last call, else undefined. */
  advance(now: number): number | undefined {
    const w = this.current(now);
    if (w === undefined || w <= this.emitted) return undefined;
    this.emitted = w;
    return w;
  }
}
