import { open, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeChunked, encodeChunked } from './chunked-codec.js';
import { SluiceError } from '../errors/index.js';
import { sharedDirsOf } from './shared-state.js';
import type { CheckpointData, CheckpointHandle, CheckpointStorage } from './types.js';

/**
 * Format of the files; a reader refuses newer formats it does not know. 1: state.bin in
 * chunks (chunked-codec.ts). 2: state.bin also holds large typed arrays as raw blocks, and
 * keyed state is in columns (state/snapshot-format.ts). This version reads both.
 */
export const CHECKPOINT_FORMAT = 2;
const MANIFEST = '_manifest.json';
const STATE = 'state.bin';
const SHARED = 'shared';

interface Manifest {
  format: number;
  kind: 'checkpoint' | 'savepoint';
  jobName: string;
  checkpointId: number;
  triggeredAt: number;
  completedAt: number;
  files: Array<{ name: string; bytes: number }>;
  steps: string[];
  /** Shared directories (incremental checkpoint files) the state lists; absent when none. */
  shared?: string[];
}

/** Writes a file (a string, or parts in order) and flushes it to disk before resolving. */
async function writeDurably(path: string, data: readonly Uint8Array[] | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    if (typeof data === 'string') await fh.writeFile(data);
    else {
      for (const part of data) {
        for (let at = 0; at < part.byteLength; ) at += (await fh.write(part, at, part.byteLength - at)).bytesWritten;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a directory entry (a rename) to disk. */
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Checkpoints on the local filesystem, by default under `./.sluice/checkpoints/<job>/`:
 * one directory `chk-<id>` per checkpoint holding `state.bin` (all steps' state, in V8's
 * structured-clone format, written in pieces, large typed arrays as raw blocks: Maps,
 * typed arrays and bigints survive) and `_manifest.json`.
 * The manifest is written last through a temporary file, fsync and rename: a directory
 * without it is an unfinished checkpoint, ignored by `list()` and removed by the next write.
 *
 * @example
 * const storage = new FileCheckpointStorage('./.sluice/checkpoints/orders');
 * const latest = (await storage.list())[0];
 */
export class FileCheckpointStorage implements CheckpointStorage {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async write(data: CheckpointData): Promise<CheckpointHandle> {
    await mkdir(this.dir, { recursive: true });
    await this.removeUnfinished();
    return this.writeTo(join(this.dir, `chk-${data.checkpointId}`), data, 'checkpoint');
  }

  async writeSavepoint(data: CheckpointData, path: string): Promise<CheckpointHandle> {
    return this.writeTo(resolve(path), data, 'savepoint');
  }

  private async writeTo(dir: string, data: CheckpointData, kind: 'checkpoint' | 'savepoint'): Promise<CheckpointHandle> {
    await mkdir(dir, { recursive: true });
    const parts = await encodeChunked(data.steps);
    await writeDurably(join(dir, STATE), parts);
    const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    const completedAt = Date.now();
    const manifest: Manifest = {
      format: CHECKPOINT_FORMAT,
      kind,
      jobName: data.jobName,
      checkpointId: data.checkpointId,
      triggeredAt: data.triggeredAt,
      completedAt,
      files: [{ name: STATE, bytes }],
      steps: Object.keys(data.steps),
    };
    const shared = sharedDirsOf(data.steps);
    if (shared.length > 0) manifest.shared = shared;
    const tmp = join(dir, `${MANIFEST}.tmp`);
    await writeDurably(tmp, JSON.stringify(manifest, null, 2));
    await rename(tmp, join(dir, MANIFEST));
    await syncDir(dir);
    return { checkpointId: data.checkpointId, kind, path: dir, sizeBytes: bytes, completedAt };
  }

  async list(): Promise<CheckpointHandle[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: CheckpointHandle[] = [];
    for (const name of names) {
      if (!/^chk-\d+$/.test(name)) continue;
      const manifest = await readManifest(join(this.dir, name)).catch(() => undefined);
      if (!manifest) continue;
      out.push({
        checkpointId: manifest.checkpointId,
        kind: manifest.kind,
        path: join(this.dir, name),
        sizeBytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
        completedAt: manifest.completedAt,
      });
    }
    return out.sort((a, b) => b.checkpointId - a.checkpointId);
  }

  read(handle: CheckpointHandle): Promise<CheckpointData> {
    return this.readPath(handle.path);
  }

  async readPath(path: string): Promise<CheckpointData> {
    const dir = resolve(path);
    let manifest: Manifest;
    try {
      manifest = await readManifest(dir);
    } catch (e) {
      throw new SluiceError('CHECKPOINT_INVALID', `no complete checkpoint or savepoint at ${dir}: ${(e as Error).message}`, { cause: e });
    }
    if (manifest.format > CHECKPOINT_FORMAT) {
      throw new SluiceError('CHECKPOINT_INVALID', `${dir} has format ${manifest.format}; this Sluice reads up to ${CHECKPOINT_FORMAT}`, {
        hint: 'Restore it with the Sluice version that wrote it, or a newer one.',
      });
    }
    const steps = (await decodeChunked(await readFile(join(dir, STATE)))) as CheckpointData['steps'];
    return { jobName: manifest.jobName, checkpointId: manifest.checkpointId, triggeredAt: manifest.triggeredAt, steps };
  }

  async discard(handle: CheckpointHandle): Promise<void> {
    await rm(handle.path, { recursive: true, force: true });
  }

  /** `<dir>/shared/<owner>`: incremental checkpoint files of one subtask, in one directory per checkpoint (`<id>-<token>`). */
  sharedDir(owner: string): string {
    return join(this.dir, SHARED, owner.replace(/[/\\]/g, '_'));
  }

  /**
   * Deletes the shared directories no retained checkpoint's manifest lists, among those of
   * checkpoints up to `upToId` (a later one may be a checkpoint in progress). A directory a
   * retained checkpoint lists is never deleted: see `disk-incremental.test.ts`.
   */
  async pruneShared(upToId: number): Promise<void> {
    const root = join(this.dir, SHARED);
    const owners = await readdir(root).catch(() => [] as string[]);
    if (owners.length === 0) return;
    const listed = new Set<string>();
    for (const h of await this.list()) for (const d of (await readManifest(h.path).catch(() => undefined))?.shared ?? []) listed.add(resolve(d));
    for (const owner of owners) {
      for (const name of await readdir(join(root, owner)).catch(() => [] as string[])) {
        const id = /^(\d+)-/.exec(name)?.[1];
        const dir = join(root, owner, name);
        if (id === undefined || Number(id) > upToId || listed.has(dir)) continue;
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /** Removes checkpoint directories that never got a manifest (a crash while writing). */
  private async removeUnfinished(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (!/^chk-\d+$/.test(name)) continue;
      const dir = join(this.dir, name);
      const ok = await stat(join(dir, MANIFEST)).then(
        () => true,
        () => false,
      );
      if (!ok) await rm(dir, { recursive: true, force: true });
    }
  }
}

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
}
