import type { WatermarkMarker } from './repartition-codec.js';

/** One producer subtask's word on an input partition: its task, watermark and idleness. */
type Part = [task: string, watermark: number, idle: boolean];

/** Per repartition partition, what its markers said: see {@link ProducerWatermarks.snapshot}. */
export type ProducerState = Record<
  number,
  {
    /** Input topic → partition count, from the markers. */
    readonly inputs: Record<string, number>;
    /** Per claim (an input partition `topic/p`, or `task:<task>` for a producer without partitioned input): its generation, subtask count and parts by subtask. */
    readonly claims: Array<[key: string, generation: number, subtasks: number, parts: Array<[subtask: number, ...Part]>]>;
  }
>;

interface Claim {
  generation: number;
  subtasks: number;
  parts: Map<number, { task: string; watermark: number; idle: boolean }>;
  /** When its last marker came: only a claim without partitioned input can be let go by silence. */
  heard: number;
  readonly unpartitioned: boolean;
}

interface PartitionView {
  readonly inputs: Map<string, number>;
  readonly claims: Map<string, Claim>;
}

/**
 * Event time of a consuming task of a repartition topic. Producing tasks write watermark
 * markers into every partition, each speaking for the input partitions it reads (its
 * claims: see `WatermarkMarker`). Per repartition partition, each input partition's word
 * is the one of the newest group generation (within a generation, the latest marker): a
 * member that takes an input partition over replaces its old owner's word there, and an
 * old owner's late marker is ignored. The partition's watermark is the minimum over the
 * input partitions that are not idle, and it is unknown (nothing is emitted) until every
 * input partition the markers name has been spoken for by all the subtasks that read it.
 * So a dead member's input partitions hold the watermark where it left them until their
 * new owner speaks: never by silence, whatever the time it takes. Over the task's
 * partitions, the minimum again over those not idle.
 *
 * A producer without partitioned input (a sub-topology fed by a non-Kafka source) speaks
 * only for itself; it is let go when silent for `idleTimeoutMs` (it repeats its marker well
 * within that while alive). Watermarks never move backwards overall:
 * `test/cluster/watermark-merger.test.ts` checks all of it against a plain model.
 */
export class ProducerWatermarks {
  private readonly partitions = new Map<number, PartitionView>();
  private emitted = Number.NEGATIVE_INFINITY;

  /** `idleTimeoutMs`: how long a producer without partitioned input may stay silent (Infinity: for ever). */
  constructor(private readonly idleTimeoutMs: number) {}

  /** The partitions this task reads now. Partitions it no longer reads are forgotten. */
  assign(partitions: readonly number[]): void {
    const keep = new Set(partitions);
    for (const p of [...this.partitions.keys()]) if (!keep.has(p)) this.partitions.delete(p);
    for (const p of partitions) if (!this.partitions.has(p)) this.partitions.set(p, { inputs: new Map(), claims: new Map() });
  }

  /** A watermark marker read from `partition` at processing time `now`. */
  marker(partition: number, marker: WatermarkMarker, now: number): void {
    const view = this.partitions.get(partition);
    if (!view) return;
    for (const [topic, count] of Object.entries(marker.inputs)) view.inputs.set(topic, Math.max(view.inputs.get(topic) ?? 0, count));
    const idle = marker.idle === true;
    // A producer without partitioned input is one claim of its own, of one part.
    const unpartitioned = marker.covers.length === 0;
    const [subtask, subtasks] = unpartitioned ? [0, 1] : [marker.subtask, marker.subtasks];
    for (const key of unpartitioned ? [`task:${marker.task}`] : marker.covers) {
      let claim = view.claims.get(key);
      if (claim && marker.generation < claim.generation) continue; // an old owner, late
      if (!claim || marker.generation > claim.generation || subtasks !== claim.subtasks) {
        claim = { generation: marker.generation, subtasks, parts: new Map(), heard: now, unpartitioned };
        view.claims.set(key, claim);
      }
      claim.parts.set(subtask, { task: marker.task, watermark: marker.watermark, idle });
      claim.heard = now;
    }
  }

  /** Per partition read, what its markers said, for the checkpoint that also holds the partition's offset; taken back by {@link restore}. */
  snapshot(): ProducerState {
    const out: ProducerState = {};
    for (const [p, view] of this.partitions) {
      out[p] = {
        inputs: Object.fromEntries(view.inputs),
        claims: [...view.claims].map(([key, c]) => [key, c.generation, c.subtasks, [...c.parts].map(([subtask, part]) => [subtask, part.task, part.watermark, part.idle])]),
      };
    }
    return out;
  }

  /**
   * Takes back what {@link snapshot} returned, for the partitions assigned now: a task that
   * resumes at a checkpoint's offsets waits for the same input partitions as the task
   * before it (the first marker read after the offset may come from a producer far ahead of
   * another whose records come next). Restored claims count as heard from at `now`.
   */
  restore(state: ProducerState, now: number): void {
    for (const [p, saved] of Object.entries(state)) {
      const view = this.partitions.get(Number(p));
      if (!view) continue;
      for (const [topic, count] of Object.entries(saved.inputs)) view.inputs.set(topic, Math.max(view.inputs.get(topic) ?? 0, count));
      for (const [key, generation, subtasks, parts] of saved.claims) {
        const claim: Claim = { generation, subtasks, parts: new Map(), heard: now, unpartitioned: key.startsWith('task:') };
        for (const [subtask, task, watermark, idle] of parts) claim.parts.set(subtask, { task, watermark, idle });
        view.claims.set(key, claim);
      }
    }
  }

  /** A partition's watermark: undefined when unknown (an input partition not yet spoken for), 'idle' when nothing holds it. */
  private partitionWatermark(view: PartitionView, now: number): number | 'idle' | undefined {
    for (const [topic, count] of view.inputs) {
      for (let p = 0; p < count; p++) {
        const claim = view.claims.get(`${topic}/${p}`);
        if (!claim || claim.parts.size < claim.subtasks) return undefined;
      }
    }
    if (view.claims.size === 0) return undefined; // nothing heard yet
    let min = Number.POSITIVE_INFINITY;
    let active = false;
    for (const claim of view.claims.values()) {
      if (claim.unpartitioned && now - claim.heard >= this.idleTimeoutMs) continue;
      for (const part of claim.parts.values()) {
        if (part.idle) continue;
        active = true;
        if (part.watermark < min) min = part.watermark;
      }
    }
    return active ? min : 'idle';
  }

  /** The merged watermark now, or undefined when nothing holds it (every partition idle) or a partition is not yet known. */
  current(now: number): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let active = false;
    for (const view of this.partitions.values()) {
      const w = this.partitionWatermark(view, now);
      if (w === undefined) return undefined;
      if (w === 'idle') continue;
      active = true;
      if (w < min) min = w;
    }
    return active ? min : undefined;
  }

  /** The merged watermark if it moved forward since the last call, else undefined. */
  advance(now: number): number | undefined {
    const w = this.current(now);
    if (w === undefined || w <= this.emitted) return undefined;
    this.emitted = w;
    return w;
  }
}
