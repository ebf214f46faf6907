import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const FORGET_HELP = `Usage: sluice forget [job] --subject S [--url URL]

Forgets a data subject in a running job (the right to be forgotten): deletes the subject's
data key from the job's key store, so that every field encrypted for it (encryptFields), in
outputs, state, checkpoints and topics, can no longer be read (crypto-shredding). Needs the
role operator on a server with authentication, and a job served with privacy keys
(server: { privacy: { keys } }). The request is recorded in the audit log, without the
subject.

Options:
  --subject S     the subject to forget (as given to encryptFields' subject function)
${URL_OPTION_HELP}

Exit codes: 0 forgotten (or the subject had no key), 1 refused or failed, 2 usage error,
4 no such job answers.`;

export function forgetCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, FORGET_HELP, { subject: { type: 'string' } }, async (name, url, values) => {
    const subject = values.subject;
    if (typeof subject !== 'string' || subject === '') {
      process.stderr.write(`sluice forget needs --subject S\n\n${FORGET_HELP}\n`);
      return EXIT.USAGE;
    }
    const job = await resolveJob(name, url);
    const r = await call<{ forgotten: boolean }>(job, '/forget', { method: 'POST', body: { subject } });
    process.stderr.write(r.forgotten ? `job '${job.id}': the subject's key is deleted; what was encrypted for it can no longer be read\n` : `job '${job.id}': the subject had no key\n`);
    return EXIT.OK;
  });
}
