import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors/index.js';
import { Job } from './job.js';
import { isTypeScript, useTypeScriptLoader } from './typescript-loader.js';

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
    if (isTypeScript(url)) await useTypeScriptLoader();
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new SluiceError('JOB_FILE_INVALID', `could not load job file ${module}: ${message}`, { cause: e, hint: loadHint(e) });
  }
  let exported = mod.default;
  if (typeof exported === 'function' && !(exported instanceof Job)) exported = await (exported as (a: string[]) => unknown)(args);
  if (!(exported instanceof Job)) {
    const got = exported === undefined ? 'no default export' : `a default export of type ${typeof exported}`;
    if ((exported as { constructor?: { name?: string } } | null)?.constructor?.name === 'Job') {
      throw new SluiceError('JOB_FILE_INVALID', `job file ${module} exports a Job of another copy of Sluice than the one running it`, {
        hint: "Run the project's own Sluice (`npx sluice run …` in the project), so that the job file and the command share one installation.",
      });
    }
    throw new SluiceError('JOB_FILE_INVALID', `job file ${module} has ${got}, not a Job`);
  }
  exported.definedIn(url, args);
  return exported;
}

/** What to do about a job file that failed to load, from how it failed. */
function loadHint(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const missing = e instanceof Error ? /Cannot find (?:package|module) '([^']+)'/.exec(e.message)?.[1] : undefined;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && missing !== undefined) {
    return missing.startsWith('.') || missing.startsWith('/')
      ? 'Check the path of the file and of its relative imports (in TypeScript, import ./x.js for the file ./x.ts).'
      : `Install the package: npm install ${missing.split('/').slice(0, missing.startsWith('@') ? 2 : 1).join('/')}`;
  }
  if (e instanceof SyntaxError) return 'Fix the syntax error at the place the message names.';
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') return 'Job files are .js, .mjs, .cjs, .ts or .mts.';
  return 'The job file threw while it was imported: fix the error the message names (the stack shows where).';
}
