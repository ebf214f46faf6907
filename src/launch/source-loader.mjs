// Running from a checkout of the repository (the sources, no build): lets this thread load
// TypeScript through tsx, and resolves `sluice` (as the examples and job files import it)
// to the sources too, through the `sluice-source` condition of package.json's exports;
// otherwise `sluice` would be the compiled dist/, a second copy beside the running one.
// The installed package never loads this file.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
const SOURCE_CONDITION = `
export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, 'sluice-source'] });
}`;
registerHooks(`data:text/javascript,${encodeURIComponent(SOURCE_CONDITION)}`);
