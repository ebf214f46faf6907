import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors/index.js';
import { Job } from './job.js';

/**
 * Loads a job from a module (a file path or a URL): its default export is a {@link Job},
 * or a function (given `args`) that returns one, or a promise of one. `sluice run` and
 * the worker threads of a parallel run load jobs this way.
 *
 * @example
 * // job.ts
 * const job = new Job({ name: 'hello' });
 * job.source(fromCollection(['hello']), { uid: 'words' }).print();
 * export default job;
 */
export async function loadJobModule(module: string, args: string[] = []): Promise<Job> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : pathToFileURL(resolve(module)).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new SluiceError('JOB_FILE_INVALID', `could not load job file ${module}: ${message}`, { cause: e });
  }
  let exported = mod.default;
  if (typeof exported === 'function' && !(exported instanceof Job)) exported = await (exported as (a: string[]) => unknown)(args);
  if (!(exported instanceof Job)) {
    const got = exported === undefined ? 'no default export' : `a default export of type ${typeof exported}`;
    throw new SluiceError('JOB_FILE_INVALID', `job file ${module} has ${got}, not a Job`);
  }
  exported.definedIn(url, args);
  return exported;
}
