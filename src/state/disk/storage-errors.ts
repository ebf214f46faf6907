/**
 * The errors of the on-disk backend's stores (LMDB, RocksDB): a full disk is STORAGE_FULL,
 * anything else STATE_IO_FAILED. Internal to `state/disk/`.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { diskFullCode } from '../../errors/disk-full.js';
import { SluiceError } from '../../errors/index.js';

export function ioFailed(message: string, cause: unknown): SluiceError {
  return new SluiceError('STATE_IO_FAILED', `${message}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}

/** Below this much free space, an I/O error of a write means the disk is full. */
const FULL_BELOW_BYTES = 1 << 20;

/**
 * The error of `what` (a state store operation on `path`) that failed with `cause`: STORAGE_FULL
 * when the disk has no room (ENOSPC, EDQUOT; or EIO while less than 1 MiB is free: LMDB
 * reports a write the disk cut short as EIO, "short write, filesystem full?" in mdb.c),
 * else STATE_IO_FAILED.
 */
export function storageFailed(what: string, cause: unknown, path: string): SluiceError {
  const code = diskFullCode(cause) ?? (isEio(cause) && freeBytes(path) < FULL_BELOW_BYTES ? 'ENOSPC' : undefined);
  if (code === undefined) return ioFailed(`${what} failed`, cause);
  return new SluiceError('STORAGE_FULL', `${what} found no space left on its disk (${code})`, {
    detail: (cause as Error)?.message ?? String(cause),
    hint: `Free space on the file system of ${path} (or raise the quota), or give the state backend a larger one. The job restarts from its last checkpoint meanwhile, with growing pauses.`,
    cause,
  });
}

function isEio(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'EIO' || code === 5) return true;
    cause = (cause as Error).cause;
  }
  return false;
}

/** Bytes an unprivileged writer may still use on the file system of `path` (Infinity when it cannot tell). */
function freeBytes(path: string): number {
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
