/**
 * The manifest of a checkpoint or savepoint (`_manifest.json`) and how a reader verifies
 * what it lists. The manifest names every file the checkpoint needs, with its size and
 * checksum (`checksum.ts`): its own `state.bin` and the incremental files of the on-disk
 * backend under `<checkpoints>/shared/` that its state lists. It carries a checksum of
 * itself too (over its JSON without that field), so that a flipped byte in it is caught
 * like one in `state.bin`. Manifests written before checksums (no `checksum` fields) are
 * still read: only their sizes are checked, and a decoding failure counts as damage.
 * Pinned by `test/checkpoint/integrity.test.ts`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../errors/index.js';
import { checksumOf, checksumOfFile, checksumOfLarge } from './checksum.js';

export const MANIFEST = '_manifest.json';

/** A file of the checkpoint's own directory. */
export interface ManifestFile {
  readonly name: string;
  readonly bytes: number;
  /** `sha256:<hex>`; absent in manifests written before checksums. */
  readonly checksum?: string;
}

/** A file outside the checkpoint's directory (an incremental file under `shared/`), by absolute path. */
export interface SharedFile {
  readonly path: string;
  readonly bytes: number;
  readonly checksum: string;
}

export interface Manifest {
  readonly format: number;
  readonly kind: 'checkpoint' | 'savepoint';
  readonly jobName: string;
  readonly checkpointId: number;
  readonly triggeredAt: number;
  readonly completedAt: number;
  readonly files: readonly ManifestFile[];
  readonly steps: readonly string[];
  /** Shared directories (incremental checkpoint files) the state lists; absent when none. */
  readonly shared?: readonly string[];
  /** Every file in those directories, with size and checksum; absent when none. */
  readonly sharedFiles?: readonly SharedFile[];
  /** Checksum of the manifest's JSON without this field. */
  readonly checksum?: string;
}

/** The manifest's text: its fields, then its own checksum. */
export function encodeManifest(manifest: Omit<Manifest, 'checksum'>): string {
  return JSON.stringify({ ...manifest, checksum: checksumOf(JSON.stringify(manifest)) }, null, 2);
}

/**
 * Damage found in a checkpoint: a missing, truncated or changed file, or a manifest that
 * is missing or does not verify. What it says goes into the CHECKPOINT_CORRUPT error.
 */
export class CheckpointDamage extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * Reads and checks the manifest in `dir`: present, JSON, its own checksum right, the
 * fields a reader needs there. Throws {@link CheckpointDamage} when it is not; other
 * errors (permissions, I/O) as they come.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (e) {
    if (isMissing(e)) throw new CheckpointDamage(`${MANIFEST} is missing`);
    throw e;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointDamage(`${MANIFEST} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CheckpointDamage(`${MANIFEST} is not a JSON object`);
  const { checksum, ...rest } = parsed;
  if (checksum !== undefined && checksum !== checksumOf(JSON.stringify(rest))) {
    throw new CheckpointDamage(`${MANIFEST} does not match its checksum (it was changed after it was written)`);
  }
  const m = parsed as unknown as Manifest;
  if (!Number.isInteger(m.checkpointId) || !Array.isArray(m.files) || typeof m.format !== 'number') {
    throw new CheckpointDamage(`${MANIFEST} lacks the checkpoint id, format or file list`);
  }
  return m;
}

/** Checks one file against the manifest: there, of its size, of its checksum (when the manifest has one). Returns its bytes. */
export async function verifiedFile(path: string, expected: { bytes: number; checksum?: string | undefined }, name = path): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if (isMissing(e)) throw new CheckpointDamage(`${name} is missing`);
    throw e;
  }
  if (bytes.byteLength !== expected.bytes) {
    throw new CheckpointDamage(`${name} has ${bytes.byteLength} bytes, the manifest says ${expected.bytes} (${bytes.byteLength < expected.bytes ? 'truncated' : 'changed'})`);
  }
  if (expected.checksum !== undefined) {
    const actual = await checksumOfLarge(bytes);
    if (actual !== expected.checksum) throw new CheckpointDamage(`${name} does not match its checksum (the manifest has ${short(expected.checksum)}, the file ${short(actual)})`);
  }
  return bytes;
}

/** Checks a file outside the checkpoint's directory (an incremental file) without keeping its bytes. */
export async function verifySharedFile(file: SharedFile): Promise<void> {
  let size: number;
  try {
    size = (await stat(file.path)).size;
  } catch (e) {
    if (isMissing(e)) throw new CheckpointDamage(`the incremental state file ${file.path} is missing`);
    throw e;
  }
  if (size !== file.bytes) {
    throw new CheckpointDamage(`the incremental state file ${file.path} has ${size} bytes, the manifest says ${file.bytes} (${size < file.bytes ? 'truncated' : 'changed'})`);
  }
  const { checksum } = await checksumOfFile(file.path);
  if (checksum !== file.checksum) throw new CheckpointDamage(`the incremental state file ${file.path} does not match its checksum (the manifest has ${short(file.checksum)}, the file ${short(checksum)})`);
}

/** A checksum cut for a message: enough to tell two apart. */
const short = (checksum: string): string => `${checksum.slice(0, 'sha256:'.length + 12)}…`;

/** The label of a checkpoint or savepoint in messages. */
export function describeSnapshot(kind: 'checkpoint' | 'savepoint' | undefined, id: number | undefined, dir: string): string {
  return `${kind ?? 'checkpoint'}${id === undefined ? '' : ` ${id}`} at ${dir}`;
}

/** The error for a damaged checkpoint or savepoint that was asked for by name (no fallback applies). */
export function corrupt(label: string, damage: CheckpointDamage | string, hint?: string): SluiceError {
  const what = typeof damage === 'string' ? damage : damage.what;
  return new SluiceError('CHECKPOINT_CORRUPT', `${label} is damaged: ${what}`, {
    detail: what,
    hint: hint ?? 'Restore from another checkpoint or savepoint. The damaged one is left as it is, for inspection.',
  });
}
