import { diskFullCode } from '../errors/disk-full.js';
import { SluiceError } from '../errors/index.js';

/** True when `e` (or an error it was caused by) says the storage is full. */
export function isStorageFull(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    if (cause instanceof SluiceError && cause.code === 'STORAGE_FULL') return true;
    cause = (cause as Error).cause;
  }
  return diskFullCode(e) !== undefined;
}

/** True when `e` (or an error it was caused by) is one of the file system's (an error number such as ENOSPC, EIO, EACCES): the storage may work again later. */
export function isIoError(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    if (cause instanceof SluiceError && cause.code === 'STORAGE_FULL') return true;
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
    cause = (cause as Error).cause;
  }
  return false;
}

/** The STORAGE_FULL error of a checkpoint write that found no room (`e` is the file system's error). */
export function storageFull(what: string, dir: string, e: unknown): SluiceError {
  const code = diskFullCode(e);
  return new SluiceError('STORAGE_FULL', `${what} found no space left in ${dir}${code ? ` (${code})` : ''}`, {
    detail: (e as Error).message,
    hint: `Free space on the file system of ${dir} (or raise the quota), or point checkpoints.dir at a larger one. The job goes on meanwhile, retrying with growing pauses; after a failure it would restart from the last checkpoint that completed.`,
    cause: e,
  });
}
