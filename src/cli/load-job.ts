import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Job } from '../api/job.js';
import { SluiceError } from '../errors/index.js';

/**
 * Loads a job file. Its default export is a {@link Job}, or a function (given the extra
 * command-line arguments) that returns one, or a promise of one.
 *
 * @example
 * // job.ts
 * const job = new Job({ name: 'hello' });
 * job.source(fromCollection(['hello']), { uid: 'words' }).print();
 * export default job;
 */
export async function loadJob(file: string, args: string[] = []): Promise<Job> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new SluiceError('JOB_FILE_INVALID', `could not load job file ${file}: ${message}`, { cause: e });
  }
  let exported = mod.default;
  if (typeof exported === 'function' && !(exported instanceof Job)) exported = await (exported as (a: string[]) => unknown)(args);
  if (!(exported instanceof Job)) {
    const got = exported === undefined ? 'no default export' : `a default export of type ${typeof exported}`;
    throw new SluiceError('JOB_FILE_INVALID', `job file ${file} has ${got}, not a Job`);
  }
  return exported;
}
