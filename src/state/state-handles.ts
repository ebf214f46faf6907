/**
 * Handles of keyed state kept in files outside a checkpoint (`KeyedStateHandle`), whatever
 * backend wrote them: which backend reads a handle itself, and how any other (or a
 * savepoint, or a state migration) gets the entries as a plain snapshot. Each format's
 * reader is imported only when a handle of it is met: a job without the on-disk backend
 * never loads LMDB.
 *
 * @example
 * if (!readsHandle(backend, handle)) backend.restore(await materializeHandle(handle, clock));
 */
import { IncrementalMemoryStateBackend, materializeMemoryChain } from './incremental-memory-backend.js';
import type { Clock } from '../time/clock.js';
import type { KeyedStateBackend, KeyedStateHandle, KeyedStateSnapshot } from './types.js';

/** True for a handle of files this Sluice can turn into a plain snapshot ('disk-chain' or 'memory-chain'). */
export function isKeyedStateHandle(x: unknown): x is KeyedStateHandle {
  const format = (x as KeyedStateHandle | null)?.format;
  return typeof x === 'object' && x !== null && (format === 'disk-chain' || format === 'memory-chain') && Array.isArray((x as KeyedStateHandle).chain);
}

/** Whether `backend.restoreHandle` reads `handle` itself (else: restore a {@link materializeHandle} of it). */
export function readsHandle(backend: KeyedStateBackend, handle: KeyedStateHandle): boolean {
  if (backend.restoreHandle === undefined) return false;
  const memory = backend instanceof IncrementalMemoryStateBackend;
  return handle.format === 'memory-chain' ? memory : !memory;
}

/** The entries a handle's files hold, as a snapshot any backend restores (expired entries, by `clock`, left out). */
export async function materializeHandle(handle: KeyedStateHandle, clock: Clock): Promise<KeyedStateSnapshot> {
  if (handle.format === 'memory-chain') return materializeMemoryChain(handle, clock);
  const disk = await import('./disk/state-handle.js');
  return disk.materializeHandle(handle, clock);
}
