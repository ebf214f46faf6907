import { open, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeChunked, encodeChunked } from './chunked-codec.js';
import { SluiceError } from '../errors/index.js';
import { checksumOfFile } from './checksum.js';
import { RECORD, commitRecord, prepareRecord, readRecord, syncDir, writeRecord } from './completion-record.js';
import { CheckpointDamage, MANIFEST, corrupt, describeSnapshot, encodeManifest, readManifest, verifiedFile, verifySharedFile, type Manifest, type SharedFile } from './manifest.js';
import { sharedDirsOf } from './shared-state.js';
import { isStorageFull, storageFull } from './storage-failure.js';
import type { CheckpointData, CheckpointHandle, CheckpointInventory, CheckpointStorage, InventoryEntry, QuarantineReason } from './types.js';

/**
 * Format of the files; a reader refuses newer formats it does not know. 1: state.bin in
 * chunks (chunked-codec.ts). 2: state.bin also holds large typed arrays as raw blocks, and
 * keyed state is in columns (state/snapshot-format.ts). This version reads both. Since
 * checksums, a format 2 manifest may also carry `checksum` fields and `sharedFiles`, which
 * earlier readers ignore (`manifest.ts`).
 */
export const CHECKPOINT_FORMAT = 2;
const STATE = 'state.bin';
const SHARED = 'shared';
const QUARANTINE = 'quarantine';
/** A directory `quarantine()` made: `chk-<id>.<reason>-<time>[-<n>]` (the time sorts as text). */
const QUARANTINED_DIR = /^chk-\d+\.(?:damaged|unfinished|superseded|replaced)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)(?:-(\d+))?$/;
const IN_PROGRESS = '.inprogress';
const CHECKPOINT_DIR = /^chk-(\d+)$/;
const DISCARDING = '.discarding';
/** Directories of checkpoints being written or deleted when the process stopped: understood, so removed. */
const UNFINISHED_DIR = /^chk-\d+\.(inprogress|discarding)$/;

/** Bytes summed at a time while writing: the event loop runs between (a 4 MiB slice takes about 3 ms). */
const SLICE = 4 << 20;

/** Writes a file (a string, or parts in order) and flushes it to disk before resolving; returns the SHA-256 of what it wrote. */
async function writeDurably(path: string, data: readonly Uint8Array[] | string): Promise<string> {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  try {
    if (typeof data === 'string') {
      hash.update(data, 'utf8');
      await fh.writeFile(data);
    } else {
      for (const part of data) {
        for (let from = 0; from < part.byteLength; from += SLICE) {
          const slice = part.subarray(from, Math.min(part.byteLength, from + SLICE));
          hash.update(slice);
          for (let at = 0; at < slice.byteLength; ) at += (await fh.write(slice, at, slice.byteLength - at)).bytesWritten;
        }
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Checkpoints on the local filesystem, by default under `./.sluice/checkpoints/<job>/`:
 * one directory `chk-<id>` per checkpoint holding `state.bin` (all steps' state, in V8's
 * structured-clone format, written in pieces, large typed arrays as raw blocks: Maps,
 * typed arrays and bigints survive) and `_manifest.json`, which lists every file the
 * checkpoint needs with its size and SHA-256 (`manifest.ts`).
 *
 * A checkpoint is written as `chk-<id>.inprogress`; once its files and manifest are on disk
 * (fsync) the directory is renamed to `chk-<id>`, and the completion record
 * (`_completed.json`, `completion-record.ts`) is updated. So a directory named `chk-<id>`
 * is a checkpoint that completed, even if its manifest is later lost; an `.inprogress` one
 * is unfinished (a crash while writing) and removed by the next write. Recovery
 * (`recovery.ts`) verifies every file before use; a damaged checkpoint is moved under
 * `quarantine/`, where the most recent few are kept (`checkpoints.keepQuarantined`).
 *
 * @example
 * const storage = new FileCheckpointStorage('./.sluice/checkpoints/orders');
 * const latest = (await storage.list())[0];
 */
export class FileCheckpointStorage implements CheckpointStorage {
  readonly dir: string;
  /** Size, modification time and checksum of incremental files already summed (they never change once written). */
  private readonly sharedSums = new Map<string, { bytes: number; mtimeMs: number; checksum: string }>();
  /**
   * Writes, and the inventory recovery reads, one at a time: a write of a failed attempt
   * that is still in flight when the next attempt starts ends before that attempt looks
   * at the checkpoints or writes one of the same id (a job that fails right after a
   * barrier and restarts at once: the connector suites' fail-and-restart case). Pinned by
   * `integrity.test.ts`.
   */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => {});
    return run;
  }

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  write(data: CheckpointData): Promise<CheckpointHandle> {
    return this.serial(() => this.writeNow(data));
  }

  private async writeNow(data: CheckpointData): Promise<CheckpointHandle> {
    const final = join(this.dir, `chk-${data.checkpointId}`);
    const unfinished = `${final}${IN_PROGRESS}`;
    try {
      await mkdir(this.dir, { recursive: true });
      await this.removeUnfinished();
      // The next completion record is written beside the state (off the checkpoint's critical path), put in place after the rename.
      const [handle] = await Promise.all([this.writeTo(unfinished, data, 'checkpoint'), prepareRecord(this.dir, { checkpointId: data.checkpointId, at: Date.now() })]);
      await rename(unfinished, final).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
        // A directory of this id already there (not ours to delete: see recovery.ts) makes room.
        await this.quarantine(final, 'replaced');
        await rename(unfinished, final);
      });
      await syncDir(this.dir);
      // Before write() resolves, so before any sink commits: recovery.ts relies on it.
      await commitRecord(this.dir);
      return { ...handle, path: final };
    } catch (e) {
      await rm(unfinished, { recursive: true, force: true }).catch(() => {}); // frees the space a failed write took
      if (isStorageFull(e)) throw storageFull(`checkpoint ${data.checkpointId}`, this.dir, e);
      throw e;
    }
  }

  writeSavepoint(data: CheckpointData, path: string): Promise<CheckpointHandle> {
    return this.serial(async () => {
      try {
        const handle = await this.writeTo(resolve(path), data, 'savepoint');
        // Sinks commit when a savepoint completes too: the record names it (recovery.ts).
        await this.record(data.checkpointId, handle.path);
        return handle;
      } catch (e) {
        if (isStorageFull(e)) throw storageFull(`savepoint ${data.checkpointId}`, resolve(path), e);
        throw e;
      }
    });
  }

  private async writeTo(dir: string, data: CheckpointData, kind: 'checkpoint' | 'savepoint'): Promise<CheckpointHandle> {
    await mkdir(dir, { recursive: true });
    const parts = await encodeChunked(data.steps);
    const checksum = await writeDurably(join(dir, STATE), parts);
    const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    const completedAt = Date.now();
    const shared = sharedDirsOf(data.steps);
    const sharedFiles = shared.length > 0 ? await this.sharedFilesIn(shared) : [];
    const manifest: Omit<Manifest, 'checksum'> = {
      format: CHECKPOINT_FORMAT,
      kind,
      jobName: data.jobName,
      checkpointId: data.checkpointId,
      triggeredAt: data.triggeredAt,
      completedAt,
      files: [{ name: STATE, bytes, checksum }],
      steps: Object.keys(data.steps),
      ...(shared.length > 0 ? { shared, sharedFiles } : {}),
    };
    if (kind === 'checkpoint') {
      // In the .inprogress directory: its rename is what completes the checkpoint.
      await writeDurably(join(dir, MANIFEST), encodeManifest(manifest));
    } else {
      const tmp = join(dir, `${MANIFEST}.tmp`);
      await writeDurably(tmp, encodeManifest(manifest));
      await rename(tmp, join(dir, MANIFEST));
    }
    await syncDir(dir);
    return { checkpointId: data.checkpointId, kind, path: dir, sizeBytes: bytes, completedAt };
  }

  /**
   * Size and checksum of every file in the shared directories a checkpoint lists. A file
   * summed for the first time is also flushed to disk, with its directories: the on-disk
   * backend writes them without fsync, and the manifest must not name files a power cut
   * could lose. Files are summed once (cached by path, size and mtime).
   */
  private async sharedFilesIn(dirs: readonly string[]): Promise<SharedFile[]> {
    const out: SharedFile[] = [];
    const seen = new Set<string>();
    for (const d of dirs) {
      const dir = resolve(d);
      let fresh = false;
      for (const name of (await readdir(dir)).sort()) {
        const path = join(dir, name);
        const st = await stat(path);
        if (!st.isFile()) continue;
        seen.add(path);
        let sum = this.sharedSums.get(path);
        if (sum === undefined || sum.bytes !== st.size || sum.mtimeMs !== st.mtimeMs) {
          const { bytes, checksum } = await checksumOfFile(path, { sync: true });
          sum = { bytes, mtimeMs: st.mtimeMs, checksum };
          this.sharedSums.set(path, sum);
          fresh = true;
        }
        out.push({ path, bytes: sum.bytes, checksum: sum.checksum });
      }
      if (fresh) {
        await syncDir(dir);
        await syncDir(dirname(dir));
      }
    }
    for (const path of this.sharedSums.keys()) if (!seen.has(path)) this.sharedSums.delete(path);
    return out;
  }

  /** Completed checkpoints whose manifest verifies, newest first (their files are verified when read). */
  async list(): Promise<CheckpointHandle[]> {
    const out: CheckpointHandle[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const id = CHECKPOINT_DIR.exec(name)?.[1];
      if (id === undefined) continue;
      const manifest = await readManifest(join(this.dir, name)).catch(() => undefined);
      if (!manifest || manifest.checkpointId !== Number(id)) continue;
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

  /**
   * Reads a checkpoint or savepoint after verifying it: the manifest's checksum, then every
   * file it lists (size and checksum), the incremental files under `shared/` included.
   * Damage is a CHECKPOINT_CORRUPT error that says what is wrong; an unreadable storage
   * (permissions, I/O) a CHECKPOINT_INVALID one.
   */
  async readPath(path: string): Promise<CheckpointData> {
    const dir = resolve(path);
    const id = CHECKPOINT_DIR.exec(basename(dir))?.[1];
    let label = describeSnapshot(undefined, id === undefined ? undefined : Number(id), dir);
    try {
      if (!(await stat(dir)).isDirectory()) throw new SluiceError('CHECKPOINT_INVALID', `no checkpoint or savepoint at ${dir}: not a directory`);
      const manifest = await readManifest(dir);
      label = describeSnapshot(manifest.kind, manifest.checkpointId, dir);
      if (manifest.format > CHECKPOINT_FORMAT) {
        throw new SluiceError('CHECKPOINT_INVALID', `${dir} has format ${manifest.format}; this Sluice reads up to ${CHECKPOINT_FORMAT}`, {
          hint: 'Restore it with the Sluice version that wrote it, or a newer one.',
        });
      }
      if (id !== undefined && Number(id) !== manifest.checkpointId) throw new CheckpointDamage(`its manifest is that of checkpoint ${manifest.checkpointId}`);
      const state = manifest.files.find((f) => f.name === STATE);
      if (state === undefined) throw new CheckpointDamage(`its manifest lists no ${STATE}`);
      const bytes = await verifiedFile(join(dir, STATE), state, STATE);
      for (const file of manifest.sharedFiles ?? []) await verifySharedFile(file);
      let steps: CheckpointData['steps'];
      try {
        steps = (await decodeChunked(bytes)) as CheckpointData['steps'];
      } catch (e) {
        throw new CheckpointDamage(`${STATE} could not be decoded (${(e as Error).message})`);
      }
      return { jobName: manifest.jobName, checkpointId: manifest.checkpointId, triggeredAt: manifest.triggeredAt, steps };
    } catch (e) {
      if (e instanceof SluiceError) throw e;
      if (e instanceof CheckpointDamage) throw corrupt(label, e);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SluiceError('CHECKPOINT_INVALID', `no checkpoint or savepoint at ${dir}: no such directory`, { cause: e });
      }
      throw new SluiceError('CHECKPOINT_INVALID', `${label} could not be read: ${(e as Error).message}`, {
        hint: 'Check the permissions and health of the storage; nothing was found damaged, so a later attempt may succeed.',
        cause: e,
      });
    }
  }

  /** Deletes a checkpoint: renamed first, so that a crash halfway leaves a `.discarding` directory (removed by the next write), not a damaged checkpoint. */
  async discard(handle: CheckpointHandle): Promise<void> {
    const doomed = `${handle.path}${DISCARDING}`;
    try {
      await rename(handle.path, doomed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /**
   * Every checkpoint directory, damaged ones included, and the completion record, for
   * recovery (`recovery.ts`). A directory `chk-<id>` counts as completed whatever it holds
   * (it gets its name only once complete), except one without a manifest in a directory
   * without a completion record: Sluice wrote checkpoints in place before records, so that
   * one is an unfinished checkpoint of that time.
   */
  inventory(): Promise<CheckpointInventory> {
    return this.serial(() => this.inventoryNow());
  }

  private async inventoryNow(): Promise<CheckpointInventory> {
    let record: Awaited<ReturnType<typeof readRecord>>;
    let names: string[];
    try {
      names = await readdir(this.dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
      record = await readRecord(this.dir);
    } catch (e) {
      throw new SluiceError('CHECKPOINT_INVALID', `the checkpoints in ${this.dir} could not be listed: ${(e as Error).message}`, {
        hint: 'Check the permissions and health of the storage.',
        cause: e,
      });
    }
    const entries: InventoryEntry[] = [];
    for (const name of names) {
      const id = CHECKPOINT_DIR.exec(name)?.[1];
      if (id === undefined) continue;
      const path = join(this.dir, name);
      try {
        const manifest = await readManifest(path);
        const damage = manifest.checkpointId === Number(id) ? undefined : `its manifest is that of checkpoint ${manifest.checkpointId}`;
        entries.push({ checkpointId: Number(id), kind: manifest.kind, path, owned: true, damage });
      } catch (e) {
        if (!(e instanceof CheckpointDamage)) throw e;
        const unfinished = record === 'absent' && !(await exists(join(path, MANIFEST)));
        entries.push({ checkpointId: Number(id), kind: 'checkpoint', path, owned: true, damage: e.what, unfinished });
      }
    }
    const recorded = typeof record === 'object' ? record : undefined;
    if (recorded && recorded.checkpointId > 0 && !entries.some((e) => e.checkpointId === recorded.checkpointId)) {
      const path = recorded.path ?? join(this.dir, `chk-${recorded.checkpointId}`);
      const gone = !(await exists(path));
      entries.push({
        checkpointId: recorded.checkpointId,
        kind: recorded.path === undefined ? 'checkpoint' : 'savepoint',
        path,
        owned: false,
        damage: gone ? `its directory ${path} is gone (deleted or moved after the checkpoint completed)` : undefined,
      });
    }
    entries.sort((a, b) => b.checkpointId - a.checkpointId);
    const newestDir = entries.find((e) => !e.unfinished && e.owned)?.checkpointId ?? 0;
    const completedUpTo = Math.max(recorded?.checkpointId ?? 0, newestDir);
    const evidence =
      completedUpTo === 0
        ? 'no checkpoint completed'
        : newestDir === completedUpTo
          ? `the directory chk-${completedUpTo} exists (a checkpoint directory gets its name when the checkpoint completes)`
          : `the completion record ${join(this.dir, RECORD)} names ${recorded?.path === undefined ? 'checkpoint' : `the savepoint ${recorded.path},`} ${completedUpTo}`;
    return { entries, completedUpTo, evidence };
  }

  /** Moves a checkpoint directory to `quarantine/chk-<id>.<reason>-<time>`: out of recovery and retention, kept for inspection. */
  async quarantine(path: string, reason: QuarantineReason): Promise<string> {
    const root = join(this.dir, QUARANTINE);
    await mkdir(root, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let target = join(root, `${basename(path)}.${reason}-${stamp}`);
    for (let n = 2; await exists(target); n++) target = join(root, `${basename(path)}.${reason}-${stamp}-${n}`);
    await rename(path, target);
    await syncDir(this.dir);
    await syncDir(root);
    return target;
  }

  /**
   * Deletes quarantined directories but the `keep` most recently quarantined (by the time
   * in their names, `chk-<id>.<reason>-<time>`); a name of another shape is left alone.
   * Returns the paths deleted.
   */
  async pruneQuarantine(keep: number): Promise<string[]> {
    const root = join(this.dir, QUARANTINE);
    const names = await readdir(root).catch(() => [] as string[]);
    const ours = names.flatMap((name) => {
      const m = QUARANTINED_DIR.exec(name);
      return m ? [{ name, at: m[1]!, n: Number(m[2] ?? 1) }] : [];
    });
    ours.sort((a, b) => (a.at === b.at ? b.n - a.n : a.at < b.at ? 1 : -1)); // newest first
    const removed: string[] = [];
    for (const old of ours.slice(keep)) {
      const path = join(root, old.name);
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    }
    if (removed.length > 0) await syncDir(root);
    return removed;
  }

  async quarantined(id: number): Promise<string[]> {
    const root = join(this.dir, QUARANTINE);
    const names = await readdir(root).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(`chk-${id}.`)).map((n) => join(root, n));
  }

  markCompleted(id: number, path?: string): Promise<void> {
    return this.serial(() => this.record(id, path));
  }

  private async record(id: number, path?: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeRecord(this.dir, { checkpointId: id, path: path === undefined || resolve(path) === join(this.dir, `chk-${id}`) ? undefined : resolve(path), at: Date.now() });
  }

  /** `<dir>/shared/<owner>`: incremental checkpoint files of one subtask, in one directory per checkpoint (`<id>-<token>`). */
  sharedDir(owner: string): string {
    return join(this.dir, SHARED, owner.replace(/[/\\]/g, '_'));
  }

  /**
   * Deletes the shared directories no retained checkpoint's manifest lists, among those of
   * checkpoints up to `upToId` (a later one may be a checkpoint in progress). A directory a
   * retained checkpoint lists is never deleted: see `disk-incremental.test.ts`; nor one a
   * quarantined checkpoint's manifest lists (deleting the quarantined directory frees it).
   */
  async pruneShared(upToId: number): Promise<void> {
    const root = join(this.dir, SHARED);
    const owners = await readdir(root).catch(() => [] as string[]);
    if (owners.length === 0) return;
    const listed = new Set<string>();
    const quarantine = join(this.dir, QUARANTINE);
    const kept = [...(await this.list()).map((h) => h.path), ...(await readdir(quarantine).catch(() => [] as string[])).map((n) => join(quarantine, n))];
    for (const dir of kept) for (const d of (await readManifest(dir).catch(() => undefined))?.shared ?? []) listed.add(resolve(d));
    for (const owner of owners) {
      for (const name of await readdir(join(root, owner)).catch(() => [] as string[])) {
        const id = /^(\d+)-/.exec(name)?.[1];
        const dir = join(root, owner, name);
        if (id === undefined || Number(id) > upToId || listed.has(dir)) continue;
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /** Removes checkpoint directories still being written when the process stopped (`chk-<id>.inprogress`): never complete, nothing refers to them. */
  private async removeUnfinished(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (UNFINISHED_DIR.test(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}
