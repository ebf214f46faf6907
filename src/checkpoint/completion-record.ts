/**
 * The completion record of a checkpoint directory, `_completed.json`: the id of the latest
 * checkpoint (or savepoint) that completed, and its path when it is not `chk-<id>` of the
 * directory. The storage writes it durably when a checkpoint completes, before the write
 * resolves, so before any sink commits that checkpoint's output: it outlives a checkpoint
 * directory that is deleted or damaged later, and so tells recovery what output sinks may
 * already have committed (the rule is in `recovery.ts`). Recovery lowers it only when the
 * user accepts repeated output (`--from-checkpoint`), or when a job finishes (to 0).
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumOf } from './checksum.js';

export const RECORD = '_completed.json';

export interface CompletionRecord {
  /** The latest completed checkpoint or savepoint; 0 after a job finished (nothing to resume). */
  readonly checkpointId: number;
  /** Its directory, when it is not `chk-<id>` of the storage (a savepoint, or a checkpoint restored from elsewhere). */
  readonly path?: string | undefined;
  /** Epoch ms of the write. */
  readonly at: number;
}

/** The record, `'absent'` when there is none (a directory written before records, or a new one), `'unreadable'` when it does not verify. */
export async function readRecord(dir: string): Promise<CompletionRecord | 'absent' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(join(dir, RECORD), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  try {
    const { checksum, ...rest } = JSON.parse(text) as Record<string, unknown>;
    const record = rest as unknown as CompletionRecord;
    if (checksum !== checksumOf(JSON.stringify(rest)) || !Number.isInteger(record.checkpointId)) return 'unreadable';
    return record;
  } catch {
    return 'unreadable';
  }
}

/** Writes the record durably: a temporary file, fsync, rename, fsync of the directory. */
export async function writeRecord(dir: string, record: CompletionRecord): Promise<void> {
  await prepareRecord(dir, record);
  await commitRecord(dir);
}

/** The first half of {@link writeRecord}: the record in a temporary file, on disk (a checkpoint writes it while it writes its state). */
export async function prepareRecord(dir: string, record: CompletionRecord): Promise<void> {
  const body = { checkpointId: record.checkpointId, ...(record.path === undefined ? {} : { path: record.path }), at: record.at };
  const fh = await open(join(dir, `${RECORD}.tmp`), 'w');
  try {
    await fh.writeFile(JSON.stringify({ ...body, checksum: checksumOf(JSON.stringify(body)) }));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The second half: the prepared record replaces the current one. */
export async function commitRecord(dir: string): Promise<void> {
  await rename(join(dir, `${RECORD}.tmp`), join(dir, RECORD));
  await syncDir(dir);
}

/** Flushes a directory entry (a rename, a new file) to disk. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
