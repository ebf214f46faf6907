import { readFileSync } from 'node:fs';
import { runCommand, RUN_HELP } from './commands/run.js';
import { nexmarkCommand, NEXMARK_HELP } from './commands/nexmark.js';
import { cancelCommand, CANCEL_HELP } from './commands/cancel.js';
import { initCommand, INIT_HELP } from './commands/init.js';
import { listCommand, LIST_HELP } from './commands/list.js';
import { logsCommand, LOGS_HELP } from './commands/logs.js';
import { savepointCommand, SAVEPOINT_HELP } from './commands/savepoint.js';
import { statusCommand, STATUS_HELP } from './commands/status.js';
import { upgradeCommand, UPGRADE_HELP } from './commands/upgrade.js';
import { EXIT } from './exit-codes.js';

const HELP = `Usage: sluice <command> [options]

Commands:
  init <dir>      create a project: a job, its test, package.json, Dockerfile
  run <job.ts>    run a job file until it finishes or until Ctrl-C (dashboard on http://127.0.0.1:8081)
  list            list running jobs (those answering on 127.0.0.1:8081-8100, or --url)
  status [job]    a running job's status and per-step metrics
  cancel [job]    cancel a running job (--savepoint: stop with a savepoint)
  savepoint [job] take a savepoint of a running job (--path P, --stop)
  logs [job]      a running job's recent log lines
  upgrade <job>   replace a running job by a new version from its savepoint (--previous <old>:
                  run again if the new one fails)
  nexmark         generate Nexmark events, run a Nexmark query (benchmark)
  help [command]  show help for a command
  version         print the version

Exit codes: 0 finished or cancelled (or done), 1 job failed, 2 usage error, 3 bad job file,
4 no running job answered (list, status, cancel, savepoint, logs, upgrade), 5 upgrade rolled back.
Run 'sluice <command> --help' for a command's options.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  init: { run: initCommand, help: INIT_HELP },
  run: { run: runCommand, help: RUN_HELP },
  nexmark: { run: nexmarkCommand, help: NEXMARK_HELP },
  list: { run: listCommand, help: LIST_HELP },
  status: { run: statusCommand, help: STATUS_HELP },
  cancel: { run: cancelCommand, help: CANCEL_HELP },
  savepoint: { run: savepointCommand, help: SAVEPOINT_HELP },
  logs: { run: logsCommand, help: LOGS_HELP },
  upgrade: { run: upgradeCommand, help: UPGRADE_HELP },
};

/** The `sluice` command line. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (command === 'help') {
    const topic = rest[0] ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(`${topic ? topic.help : HELP}\n`);
    return EXIT.OK;
  }
  if (command === 'version' || command === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`sluice ${pkg.version}\n`);
    return EXIT.OK;
  }
  const cmd = COMMANDS[command];
  if (!cmd) {
    process.stderr.write(`unknown command '${command}'\n\n${HELP}\n`);
    return EXIT.USAGE;
  }
  return cmd.run(rest);
}
