import { readFileSync } from 'node:fs';
import { runCommand, RUN_HELP } from './commands/run.js';
import { nexmarkCommand, NEXMARK_HELP } from './commands/nexmark.js';
import { EXIT } from './exit-codes.js';

const HELP = `Usage: sluice <command> [options]

Commands:
  run <job.ts>    run a job file until it finishes or until Ctrl-C
  nexmark         generate Nexmark events, run a Nexmark query (benchmark)
  help [command]  show help for a command
  version         print the version

Exit codes: 0 finished or cancelled, 1 job failed, 2 usage error, 3 bad job file.
Run 'sluice <command> --help' for a command's options.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  nexmark: { run: nexmarkCommand, help: NEXMARK_HELP },
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
