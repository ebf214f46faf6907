import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const SAVEPOINT_HELP = `Usage: sluice savepoint [job] [--path P] [--stop] [--url URL]

Takes a savepoint of a running job (it needs checkpoints on) and prints its path.
Start from it later with 'sluice run job.ts --from-savepoint PATH'.

Options:
  --path P        its name in the job's savepoint directory (default sp-<time>); the directory is
                  .sluice/savepoints/<job>/ in the job's working directory unless the job sets
                  checkpoints.savepointDir. A relative P resolves there; an absolute P must lie
                  inside it; a path outside it, an existing one, or one in a checkpoint
                  directory is refused (SAVEPOINT_PATH_REFUSED)
  --stop          stop the job after the savepoint
${URL_OPTION_HELP}

Exit codes: 0 written, 1 the job refused or failed to write it, 4 no such job answers.`;

export function savepointCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, SAVEPOINT_HELP, { path: { type: 'string' }, stop: { type: 'boolean' } }, async (name, url, values) => {
    const job = await resolveJob(name, url);
    const body = { path: values.path, savepoint: true };
    const r = values.stop
      ? (await call<{ savepoint: { path: string } }>(job, '/cancel', { method: 'POST', body, timeoutMs: 120_000 })).savepoint
      : await call<{ path: string }>(job, '/savepoints', { method: 'POST', body, timeoutMs: 120_000 });
    process.stdout.write(`${r.path}\n`);
    return EXIT.OK;
  });
}
