import { register as registerHooks } from 'node:module';
import { loadOptional } from '../connectors/shared/optional-client.js';

/** Whether a module is TypeScript (a job file `sluice run` or a worker thread loads). */
export function isTypeScript(url: string): boolean {
  return /\.[cm]?tsx?$/.test(new URL(url).pathname);
}

/**
 * A `.ts` file is loaded as an ES module even in a CommonJS package (one without
 * `"type": "module"`): job files are written with `import` and `export default`, and as
 * CommonJS they would `require()` Sluice, an ES module, from inside the ES module graph
 * that is loading them, which Node refuses ("Cannot require() ES Module … in a cycle").
 */
const ES_MODULE_TS = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  // Whatever was resolved ('commonjs' from tsx on Node 20 and 22; none on Node 24, whose
  // loader then picks CommonJS from package.json): .ts and .tsx are ES modules here.
  if (resolved.format !== 'module' && /\\.tsx?$/.test(new URL(resolved.url).pathname)) return { ...resolved, format: 'module' };
  return resolved;
}`;

let ready: Promise<void> | undefined;

/**
 * Lets this thread import TypeScript modules. tsx compiles them on load (it also resolves
 * `./x.js` to `./x.ts`, as `tsc` does, which Node's own type stripping does not). Only
 * `.ts` job files need it: the installed package is compiled JavaScript, and `.js`/`.mjs`
 * jobs load without it. Each thread registers its own (worker threads of a parallel run too).
 */
export function useTypeScriptLoader(): Promise<void> {
  // Running from the sources (a checkout), a loader is in place already.
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  return (ready ??= loadOptional('tsx', 'TypeScript job files', () => import('tsx/esm/api')).then((tsx) => {
    tsx.register();
    // Registered after tsx, so it runs first and sees what tsx resolved.
    registerHooks(`data:text/javascript,${encodeURIComponent(ES_MODULE_TS)}`);
  }));
}
