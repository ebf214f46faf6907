/**
 * The files of the incremental memory backend's checkpoints (`incremental-memory-backend.ts`):
 * a full file holds every live slot, a delta file the slots changed since the previous
 * checkpoint: the live ones (`puts`) and the deleted or expired ones (`removed`, keys and
 * namespaces only). A checkpoint is restored from its chain, the last full file and the
 * deltas after it, in order. Internal to `state/`.
 *
 * A file is the V8 serialization of a {@link ChainFile}: the columns of
 * `snapshot-format.ts`, whose typed arrays V8 copies as whole blocks.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { SluiceError } from '../errors/index.js';
import { checkStateSnapshot } from './snapshot-format.js';
import type { StateColumns } from './types.js';

const FORMAT = 'sluice-memory-chain';
const VERSION = 1;

/** One state's changes in a delta file. */
export interface StateChanges {
  /** The live slots changed, as they are now (map state: the whole map of the slot). */
  readonly puts: StateColumns;
  /** The slots deleted (or expired) since the previous checkpoint: `keys` and `namespaces` only. */
  readonly removed: StateColumns;
}

/** What one file of a chain holds. */
export type ChainFile =
  | { readonly kind: 'full'; readonly maxParallelism: number; readonly states: Record<string, StateColumns> }
  | { readonly kind: 'delta'; readonly maxParallelism: number; readonly states: Record<string, StateChanges> };

/** Writes `file` to `path` (its directory made if missing); returns the bytes written. */
export async function writeChainFile(path: string, file: ChainFile): Promise<number> {
  const bytes = serialize({ format: FORMAT, version: VERSION, ...file });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return bytes.byteLength;
}

/** Reads a file {@link writeChainFile} wrote; STATE_INCOMPATIBLE when it is not one. */
export async function readChainFile(path: string): Promise<ChainFile> {
  let value: unknown;
  try {
    value = deserialize(await readFile(path));
  } catch (e) {
    throw new SluiceError('STATE_INCOMPATIBLE', `${path} is not a readable memory state checkpoint file: ${(e as Error).message}`, { cause: e });
  }
  const file = value as { format?: unknown; version?: unknown; kind?: unknown; states?: unknown };
  if (file?.format !== FORMAT || file.version !== VERSION || (file.kind !== 'full' && file.kind !== 'delta') || typeof file.states !== 'object' || file.states === null) {
    throw new SluiceError('STATE_INCOMPATIBLE', `${path} is not a memory state checkpoint file (format ${FORMAT} version ${VERSION})`);
  }
  for (const [name, s] of Object.entries(file.states)) {
    if (file.kind === 'full') checkStateSnapshot(name, s);
    else {
      checkStateSnapshot(name, (s as StateChanges).puts);
      checkStateSnapshot(name, (s as StateChanges).removed);
    }
  }
  return value as ChainFile;
}
