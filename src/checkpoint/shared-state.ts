/**
 * Incremental checkpoints as the checkpoint layer sees them: a step's state (or a parallel
 * step's part) may name shared directories (`sharedDirs`, a list of paths) holding files
 * of its backend outside the checkpoint, written under `CheckpointStorage.sharedDir`
 * (`KeyedScope.snapshot` does so for the on-disk backend, with a `handle` that lists the
 * files). The storage records these directories with each checkpoint and keeps a
 * directory while a retained checkpoint lists it (`FileCheckpointStorage.pruneShared`).
 * Savepoints are self-contained: {@link selfContained} replaces every handle by the
 * entries it stands for. Pinned by `test/checkpoint/disk-incremental.test.ts`.
 */
import { SluiceError } from '../errors/index.js';
import type { Clock } from '../time/clock.js';
import { partsOf } from './step-parts.js';
import type { CheckpointData, StepState } from './types.js';

interface WithShared {
  readonly sharedDirs?: readonly string[];
  readonly handle?: unknown;
  readonly state?: unknown;
}

function withShared(part: unknown): part is WithShared {
  return typeof part === 'object' && part !== null && Array.isArray((part as WithShared).sharedDirs);
}

/** Every shared directory the steps' states list. */
export function sharedDirsOf(steps: Record<string, StepState>): string[] {
  const out = new Set<string>();
  for (const step of Object.values(steps)) {
    for (const part of partsOf(step)) if (withShared(part)) for (const d of part.sharedDirs!) out.add(d);
  }
  return [...out];
}

/**
 * The checkpoint with every handle of shared files turned into the entries it stands for
 * (for a savepoint, which must not depend on a job's checkpoint directory).
 */
export async function selfContained(data: CheckpointData, clock: Clock): Promise<CheckpointData> {
  if (sharedDirsOf(data.steps).length === 0) return data;
  const { isKeyedStateHandle, materializeHandle } = await import('../state/state-handles.js');
  const inline = async (part: unknown): Promise<unknown> => {
    if (!withShared(part)) return part;
    const { sharedDirs: _dirs, handle, ...rest } = part;
    if (!isKeyedStateHandle(handle)) {
      throw new SluiceError('CHECKPOINT_FAILED', 'a step state lists shared files but has no handle this Sluice can read into a savepoint');
    }
    return { ...rest, state: await materializeHandle(handle, clock) };
  };
  const steps: Record<string, StepState> = {};
  for (const [uid, step] of Object.entries(data.steps)) {
    steps[uid] = step.parts === undefined ? { ...step, state: await inline(step.state) } : { ...step, parts: await Promise.all(step.parts.map(inline)) };
  }
  return { ...data, steps };
}
