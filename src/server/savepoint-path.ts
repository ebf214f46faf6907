import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SluiceError } from '../errors/index.js';

/** Where a job's savepoints may go, and what they must stay out of (`JobMonitor.dirs`). */
export interface SavepointDirs {
  /** The job's savepoint directory (absolute). */
  readonly savepoints: string;
  /** The job's checkpoint directory, when it checkpoints to files. */
  readonly checkpoints?: string | undefined;
}

/** Files that mark a directory as Sluice's: a checkpoint storage (`_completed.json`) or a checkpoint or savepoint (`_manifest.json`). */
const MARKERS = ['_completed.json', '_manifest.json'];

/**
 * The absolute path a savepoint asked for through the REST API goes to, or a
 * `SAVEPOINT_PATH_REFUSED` error. A relative `given` resolves inside the job's savepoint
 * directory; the result must be a new directory strictly inside it (symbolic links
 * followed), inside no checkpoint directory of the job, and inside no directory that
 * holds a checkpoint or a savepoint (another job's, or an earlier one). So a request can
 * neither write `../` far away nor turn the job's latest checkpoint into a savepoint
 * (issue 17). Pinned by `test/server/savepoint-path.test.ts`.
 *
 * @example
 * await confineSavepointPath('before-upgrade', { savepoints: '/srv/.sluice/savepoints/orders' });
 * // '/srv/.sluice/savepoints/orders/before-upgrade'
 */
export async function confineSavepointPath(given: string, dirs: SavepointDirs): Promise<string> {
  const root = dirs.savepoints;
  const target = resolve(root, given);
  const refuse = (why: string) =>
    new SluiceError('SAVEPOINT_PATH_REFUSED', `savepoint path '${given}' refused: ${why}; savepoints given through the API go inside ${root}${sep} (a relative path resolves there)`, {
      hint: "Give a new name inside the job's savepoint directory, such as `--path before-upgrade`; the directory is set with the job's `checkpoints: { savepointDir }` option.",
    });
  if (!inside(target, root)) throw refuse(isAbsolute(given) ? 'it is outside the savepoint directory' : "it leaves the savepoint directory ('..')");
  if (existsSync(target)) throw refuse('it exists already (a savepoint goes to a new directory)');
  // Symbolic links are followed: the deepest existing directory on the way must still be inside.
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  let existing = dirname(target);
  while (!existsSync(existing)) existing = dirname(existing);
  const realExisting = await realpath(existing);
  if (realExisting !== realRoot && !inside(realExisting, realRoot)) throw refuse('it leads out of the savepoint directory through a symbolic link');
  if (dirs.checkpoints !== undefined) {
    const checkpoints = existsSync(dirs.checkpoints) ? await realpath(dirs.checkpoints) : resolve(dirs.checkpoints);
    if (realExisting === checkpoints || inside(realExisting, checkpoints)) throw refuse(`it lies in the job's checkpoint directory ${dirs.checkpoints}`);
  }
  for (let dir = realExisting; dir === realRoot || inside(dir, realRoot); dir = dirname(dir)) {
    const marker = MARKERS.find((m) => existsSync(join(dir, m)));
    if (marker) throw refuse(`it lies in ${dir}, a directory of checkpoints or a savepoint (it holds ${marker})`);
  }
  return target;
}

/** Whether `path` lies strictly inside `dir` (both absolute). */
function inside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}
