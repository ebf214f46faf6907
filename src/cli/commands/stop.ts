import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const STOP_HELP = `Usage: sluice stop [job] [--url URL]

Stops a running job gracefully, as SIGTERM stops 'sluice run' (Flink's 'stop --drain'):
sources that can end their input (HTTP ingest) take no new input and hand out what they
accepted; when every source can, the job finishes (final checkpoint, commit); otherwise a
last checkpoint covers what they accepted, the sinks commit it, and the job ends as
cancelled with its checkpoints kept. Nothing a source acknowledged is lost.
'sluice cancel' stops at once instead: what ingest accepted after the latest checkpoint
is lost unless it keeps a durable log.

Options:
${URL_OPTION_HELP}

Exit codes: 0 the job is stopping, 4 no such job answers.`;

export function stopCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, STOP_HELP, {}, async (name, url) => {
    const job = await resolveJob(name, url);
    await call(job, '/stop', { method: 'POST', body: {}, timeoutMs: 30_000 });
    process.stderr.write(`job '${job.id}' is stopping: a last checkpoint, its commit, then it ends\n`);
    return EXIT.OK;
  });
}
