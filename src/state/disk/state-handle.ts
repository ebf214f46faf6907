/**
 * Turns a handle of the on-disk backend's checkpoint files (`KeyedStateHandle`, format
 * 'disk-chain') into a plain {@link KeyedStateSnapshot}: for savepoints, which must not
 * point into a job's checkpoint directory, and for restoring such a checkpoint into a
 * backend without `restoreHandle` (the memory backend) or through a state migration.
 * The chain is loaded into a scratch backend in the system's temporary directory, read
 * out with `snapshot()`, and deleted.
 *
 * @example
 * const snapshot = await materializeHandle(handle, clock); // the entries the chain holds
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../time/clock.js';
import type { KeyedStateHandle, KeyedStateSnapshot } from '../types.js';
import { checkHandle, DiskStateBackend } from './lmdb-backend.js';

/** True for a value shaped as a {@link KeyedStateHandle}. */
export function isKeyedStateHandle(x: unknown): x is KeyedStateHandle {
  return typeof x === 'object' && x !== null && (x as KeyedStateHandle).format === 'disk-chain' && Array.isArray((x as KeyedStateHandle).chain);
}

/** The entries a handle's chain holds, as a snapshot any backend restores (expired entries, by `clock`, left out). */
export async function materializeHandle(handle: KeyedStateHandle, clock: Clock): Promise<KeyedStateSnapshot> {
  checkHandle(handle, handle.maxParallelism);
  const path = mkdtempSync(join(tmpdir(), 'sluice-materialize-'));
  const scratch = new DiskStateBackend({ clock, path, maxParallelism: handle.maxParallelism, cacheSize: 1024 });
  try {
    await scratch.restoreCheckpoint(handle.chain);
    return scratch.snapshot();
  } finally {
    await scratch.destroy();
    rmSync(path, { recursive: true, force: true });
  }
}
