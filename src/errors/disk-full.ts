import { constants } from 'node:os';

/** Error numbers of a storage that has no room left: the disk (ENOSPC) or the user's quota (EDQUOT). */
const FULL: ReadonlyMap<string | number, 'ENOSPC' | 'EDQUOT'> = new Map<string | number, 'ENOSPC' | 'EDQUOT'>([
  ['ENOSPC', 'ENOSPC'],
  ['EDQUOT', 'EDQUOT'],
  [constants.errno.ENOSPC, 'ENOSPC'],
  [constants.errno.EDQUOT, 'EDQUOT'],
]);

/**
 * The error number that says a disk is full, found along `e`'s causes: `'ENOSPC'` (no
 * space left) or `'EDQUOT'` (quota used up), whether the error carries it as Node's code
 * string or as the plain number native modules report (lmdb: `code: 28`). Undefined for
 * any other error. Used by every place that turns a full disk into `STORAGE_FULL`.
 *
 * @example
 * diskFullCode(Object.assign(new Error('write failed'), { code: 28 })); // 'ENOSPC' on Linux
 */
export function diskFullCode(e: unknown): 'ENOSPC' | 'EDQUOT' | undefined {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') {
      const full = FULL.get(code);
      if (full !== undefined) return full;
    }
    cause = (cause as Error).cause;
  }
  return undefined;
}
