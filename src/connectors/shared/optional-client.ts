import { SluiceError } from '../../errors/index.js';

/**
 * Loads a client package on first use. Broker and database clients are optional peer
 * dependencies: importing Sluice loads none of them, and a project installs only those of
 * the connectors it uses. A missing one is a DEPENDENCY_MISSING error that names it.
 *
 * `load` is the `import()` itself (written out at the call site, so the package's types
 * follow and bundlers see it).
 *
 * @example
 * const { Redis } = await loadOptional('ioredis', 'the Redis connectors', () => import('ioredis'));
 */
export async function loadOptional<M>(pkg: string, usedBy: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (e) {
    if (isMissing(e, pkg)) {
      throw new SluiceError('DEPENDENCY_MISSING', `the package '${pkg}' is not installed, and ${usedBy} cannot run without it`, {
        hint: `Run \`npm install ${pkg}\` in the project that runs the job.`,
        cause: e,
      });
    }
    throw e;
  }
}

function isMissing(e: unknown, pkg: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${pkg}`);
}
