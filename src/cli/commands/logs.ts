import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const LOGS_HELP = `Usage: sluice logs [job] [-n N] [--json] [--url URL]

Prints a running job's recent log lines (info and above; the job keeps the last 500).

Options:
  -n, --lines N   how many (default 50)
  --json          the JSON lines as the job wrote them
${URL_OPTION_HELP}

Exit codes: 0 printed, 4 no such job answers.`;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function logsCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, LOGS_HELP, { lines: { type: 'string', short: 'n' }, json: { type: 'boolean' } }, async (name, url, values) => {
    const n = Number(values.lines ?? 50);
    if (!Number.isInteger(n) || n <= 0) {
      process.stderr.write(`--lines must be a positive integer\n`);
      return EXIT.USAGE;
    }
    const job = await resolveJob(name, url);
    const { lines } = await call<{ lines: Array<{ time: number; level: number; msg: string }> }>(job, `/logs?limit=${n}`);
    for (const l of lines) {
      process.stdout.write(values.json ? `${JSON.stringify(l)}\n` : `${new Date(l.time).toISOString()} ${(LEVELS[l.level] ?? l.level).toString().padEnd(5)} ${l.msg}\n`);
    }
    return EXIT.OK;
  });
}
