import { findJobs } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const LIST_HELP = `Usage: sluice list [--url URL] [--json]

Lists the jobs that answer on 127.0.0.1:8081-8100 (where 'sluice run' serves), or at --url.

Options:
  --json          one JSON array instead of a table
${URL_OPTION_HELP}

Exit codes: 0 at least one job answered, 4 none did.`;

export function listCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, LIST_HELP, { json: { type: 'boolean' } }, async (_job, url, values) => {
    const jobs = await findJobs(url);
    if (values.json) process.stdout.write(`${JSON.stringify(jobs)}\n`);
    else if (jobs.length > 0) {
      const rows = jobs.map((j) => [j.id, j.status, new Date(j.startedAt).toISOString(), String(j.restarts), j.url]);
      process.stdout.write(table(['JOB', 'STATUS', 'STARTED', 'RESTARTS', 'URL'], rows));
    }
    if (jobs.length === 0) process.stderr.write(`no running job answers on ${url ?? '127.0.0.1:8081-8100'}\n`);
    return jobs.length > 0 ? EXIT.OK : EXIT.NO_JOB;
  });
}

/** Columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
