import type { Partitioner } from '../../plan/graph.js';
import { keyGroupOf, subtaskForKeyGroup } from '../../state/key-groups.js';
import type { Key } from '../../state/types.js';
import type { Batch } from '../batch.js';
import { isKey } from '../operators/keyed-scope.js';
import type { ChannelOutput } from '../channel-output.js';
import { BroadcastingOutput, type Output } from '../output.js';

/**
 * The producing side of an exchange: the partitioner that applies `partitioner` over
 * `targets`, one {@link ChannelOutput} per consuming subtask. Control events (watermarks,
 * idleness, end) go to every consumer, so each one's watermark is the minimum over all
 * producers.
 */
export function partitionerFor<T>(
  partitioner: Partitioner,
  targets: Output<T>[],
  keySelector: ((value: T) => Key) | undefined,
  maxParallelism: number,
): Output<T> {
  if (targets.length === 1) return targets[0]!;
  switch (partitioner) {
    case 'hash':
      return new HashPartitioner(targets, keySelector!, maxParallelism);
    case 'rebalance':
      return new RebalancePartitioner(targets);
    case 'broadcast':
      return new BroadcastingOutput(targets);
    case 'forward':
      throw new Error('a forward exchange has one target per producer');
  }
}

/** Control events go to every target, as from a broadcast; batches are split (subclasses). */
abstract class PartitioningOutput<T> extends BroadcastingOutput<T> {
  abstract override emitBatch(batch: Batch<T>): void;
}

const SMALL_KEYS = 1 << 16;

/**
 * Sends each record to the subtask that owns its key's key group (`key-groups.ts`). A
 * key selector that throws or returns no valid key sends the record to subtask 0, whose
 * keyed step computes the key again and reports the error (or dead-letters the record)
 * as it would at parallelism 1.
 *
 * Two passes over a batch: the first finds each record's subtask (into a reused array)
 * and counts them per subtask, the second copies the records into arrays of exactly that
 * size; pushing into growing arrays cost ~20 ns a record. A batch whose records all go to
 * one subtask goes on as it is.
 */
export class HashPartitioner<T> extends PartitioningOutput<T> {
  /** Key group -> subtask, computed once. */
  private readonly owner: Int32Array;
  /**
   * Subtask by key for small non-negative integer keys (ids, counters: the common case),
   * filled as keys appear (-1: not yet): hashing a number's digits costs more than the
   * rest of routing it.
   */
  private readonly smallKeys = new Int16Array(SMALL_KEYS).fill(-1);
  /** Each record's subtask, for the batch being split (grown to the largest batch). */
  private subtaskOf = new Int32Array(1024);
  private readonly counts: Int32Array;

  constructor(
    targets: Output<T>[],
    private readonly keySelector: (value: T) => Key,
    private readonly maxParallelism: number,
  ) {
    super(targets);
    this.owner = new Int32Array(maxParallelism);
    for (let g = 0; g < maxParallelism; g++) this.owner[g] = subtaskForKeyGroup(g, targets.length, maxParallelism);
    this.counts = new Int32Array(targets.length);
  }

  emitBatch(batch: Batch<T>): void {
    const { values, timestamps } = batch;
    const n = values.length;
    if (this.subtaskOf.length < n) this.subtaskOf = new Int32Array(Math.max(n, 2 * this.subtaskOf.length));
    const subtaskOf = this.subtaskOf;
    const counts = this.counts;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      let target = 0;
      try {
        const key = this.keySelector(values[i]!);
        if (typeof key === 'number' && key >>> 0 === key && key < SMALL_KEYS) {
          target = this.smallKeys[key]!;
          if (target < 0) target = this.smallKeys[key] = this.owner[keyGroupOf(key, this.maxParallelism)]!;
        } else if (isKey(key)) target = this.owner[keyGroupOf(key, this.maxParallelism)]!;
      } catch {
        // subtask 0's keyed step raises the error with the step's name and policy
      }
      subtaskOf[i] = target;
      counts[target]++;
    }
    const targets = this.targets;
    const parts = targets.length;
    for (let t = 0; t < parts; t++) {
      if (counts[t] === n) {
        if (n > 0) targets[t]!.emitBatch(batch);
        return;
      }
    }
    const splitValues: T[][] = new Array(parts);
    const splitTimestamps: number[][] = new Array(parts);
    for (let t = 0; t < parts; t++) {
      splitValues[t] = new Array<T>(counts[t]!);
      splitTimestamps[t] = new Array<number>(counts[t]!);
    }
    // counts[t] becomes the next free index of part t
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const t = subtaskOf[i]!;
      const at = counts[t]++;
      splitValues[t]![at] = values[i]!;
      splitTimestamps[t]![at] = timestamps[i]!;
    }
    for (let t = 0; t < parts; t++) if (counts[t]! > 0) targets[t]!.emitBatch({ values: splitValues[t]!, timestamps: splitTimestamps[t]! });
  }
}

/**
 * Spreads batches round-robin over the targets. Whole batches, not single records: a
 * batch stays one unit of work (and one message across threads), and over many batches
 * the load evens out.
 */
export class RebalancePartitioner<T> extends PartitioningOutput<T> {
  private next = 0;
  emitBatch(batch: Batch<T>): void {
    this.targets[this.next]!.emitBatch(batch);
    this.next = (this.next + 1) % this.targets.length;
  }
}
