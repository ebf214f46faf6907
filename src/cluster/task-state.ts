import type { KeyedScopeSnapshot } from '../runtime/operators/keyed-scope.js';
import type { TimerEntry } from '../runtime/timer-queue.js';
import { keyGroupOf, subtaskForKeyGroup } from '../state/key-groups.js';
import { ColumnsBuilder, entryCount, forEachEntry } from '../state/snapshot-format.js';
import type { StateSnapshot } from '../state/types.js';

/** Whether a step's checkpointed state is a keyed step's (state and timers by key). */
export function isKeyedSnapshot(state: unknown): state is KeyedScopeSnapshot {
  const s = state as Partial<KeyedScopeSnapshot> | null;
  return typeof s === 'object' && s !== null && typeof s.state === 'object' && Array.isArray(s.eventTimers) && Array.isArray(s.processingTimers);
}

/**
 * A keyed step's snapshots (one per subtask of the member) cut into the state of each
 * task: partition p gets the entries and timers of the key groups that
 * `subtaskForKeyGroup(keyGroup, partitions)` gives to p, as the repartition topic routes
 * keys. Only the partitions in `owned` are kept (a member holds state of its tasks only).
 */
export function splitByPartition(parts: readonly KeyedScopeSnapshot[], partitions: number, owned: readonly number[]): Map<number, KeyedScopeSnapshot> {
  const maxParallelism = parts[0]?.state.maxParallelism ?? 128;
  const partitionOf = (keyGroup: number) => subtaskForKeyGroup(keyGroup, partitions, maxParallelism);
  const out = new Map<number, KeyedScopeSnapshot>();
  const names = new Set(parts.flatMap((p) => Object.keys(p.state.states)));
  const builders = new Map<number, Map<string, ColumnsBuilder>>();
  for (const p of owned) builders.set(p, new Map());
  for (const name of names) {
    const stored = parts.map((p) => p.state.states[name]).filter((s): s is StateSnapshot => s !== undefined);
    const kind = stored[0]!.kind;
    const capacity = stored.reduce((n, s) => n + entryCount(s), 0);
    for (const s of stored) {
      forEachEntry(s, maxParallelism, (key, keyGroup, namespace, value, expiresAt) => {
        const byName = builders.get(partitionOf(keyGroup));
        if (!byName) return;
        let b = byName.get(name);
        if (!b) byName.set(name, (b = new ColumnsBuilder(kind, Math.ceil(capacity / Math.max(1, owned.length)))));
        b.add(key, keyGroup, namespace, value, expiresAt ?? Infinity);
      });
    }
  }
  const versions = Object.assign({}, ...parts.map((p) => p.versions ?? {})) as Record<string, number>;
  const timers = new Map<number, { eventTimers: TimerEntry[]; processingTimers: TimerEntry[] }>();
  for (const p of owned) timers.set(p, { eventTimers: [], processingTimers: [] });
  for (const s of parts) {
    for (const t of s.eventTimers) timers.get(partitionOf(keyGroupOf(t.key, maxParallelism)))?.eventTimers.push(t);
    for (const t of s.processingTimers) timers.get(partitionOf(keyGroupOf(t.key, maxParallelism)))?.processingTimers.push(t);
  }
  for (const p of owned) {
    const states: Record<string, StateSnapshot> = {};
    for (const [name, b] of builders.get(p)!) states[name] = b.finish();
    out.set(p, { state: { maxParallelism, states }, versions, ...timers.get(p)! });
  }
  return out;
}
