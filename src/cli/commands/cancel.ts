import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const CANCEL_HELP = `Usage: sluice cancel [job] [--savepoint [--path P]] [--url URL]

Cancels a running job at once (its checkpoints are kept, so the next 'sluice run' resumes;
what HTTP ingest accepted after the latest checkpoint is lost unless it keeps a durable
log: 'sluice stop' stops gracefully). With --savepoint, takes a savepoint first and stops
after it (stop-with-savepoint).

Options:
  --savepoint     stop with a savepoint
  --path P        the savepoint's name in the job's savepoint directory (default sp-<time>, in
                  .sluice/savepoints/<job>/ unless the job sets checkpoints.savepointDir);
                  a path outside that directory is refused (see 'sluice savepoint --help')
${URL_OPTION_HELP}

Exit codes: 0 cancelled, 1 the savepoint failed, 4 no such job answers.`;

export function cancelCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, CANCEL_HELP, { savepoint: { type: 'boolean' }, path: { type: 'string' } }, async (name, url, values) => {
    const job = await resolveJob(name, url);
    const r = await call<{ savepoint?: { path: string; checkpointId: number } }>(job, '/cancel', {
      method: 'POST',
      body: { savepoint: values.savepoint === true, path: values.path },
      timeoutMs: 120_000,
    });
    if (r.savepoint) process.stdout.write(`${r.savepoint.path}\n`);
    process.stderr.write(`job '${job.id}' is cancelling${r.savepoint ? ` after savepoint ${r.savepoint.checkpointId}` : ''}\n`);
    return EXIT.OK;
  });
}
