import { readFileSync } from 'node:fs';
import { EXIT } from './exit-codes.js';

const HELP = `Usage: sluice <command> [options]

Commands:
  init <dir>      create a project: a job, its test, package.json, Dockerfile
  run <job.ts>    run a job file until it finishes or until Ctrl-C (dashboard on http://127.0.0.1:8081)
  list            list running jobs (those answering on 127.0.0.1:8081-8100, or --url)
  status [job]    a running job's status and per-step metrics
  stop [job]      stop a running job gracefully: its sources drain, a last checkpoint, its commit
  cancel [job]    cancel a running job at once (--savepoint: stop with a savepoint)
  savepoint [job] take a savepoint of a running job (--path P, --stop)
  logs [job]      a running job's recent log lines
  forget [job]    forget a data subject: delete its data key (--subject S; crypto-shredding)
  upgrade <job>   replace a running job by a new version from its savepoint (--previous <old>:
                  run again if the new one fails)
  cluster status  a cluster's members, their partitions and lag, its internal topics, read
                  from Kafka (--kafka BROKERS --cluster NAME)
  schema check <job.ts>  compare the job's schemas with a schema registry's versions under
                  each subject's compatibility level, before a deploy
  nexmark         generate Nexmark events, run a Nexmark query (benchmark)
  help [command]  show help for a command
  version         print the version

Exit codes: 0 finished or cancelled (or done), 1 job failed, 2 usage error, 3 bad job file,
4 no running job answered (list, status, stop, cancel, savepoint, logs, forget, upgrade) or no such cluster
or its brokers did not answer (cluster status), 5 upgrade rolled back.
Run 'sluice <command> --help' for a command's options.`;

/** A command, loaded when it is run: `sluice run` does not load the Nexmark generator or the REST client. */
interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  init: () => import('./commands/init.js').then((m) => ({ run: m.initCommand, help: m.INIT_HELP })),
  run: () => import('./commands/run.js').then((m) => ({ run: m.runCommand, help: m.RUN_HELP })),
  nexmark: () => import('./commands/nexmark.js').then((m) => ({ run: m.nexmarkCommand, help: m.NEXMARK_HELP })),
  list: () => import('./commands/list.js').then((m) => ({ run: m.listCommand, help: m.LIST_HELP })),
  status: () => import('./commands/status.js').then((m) => ({ run: m.statusCommand, help: m.STATUS_HELP })),
  stop: () => import('./commands/stop.js').then((m) => ({ run: m.stopCommand, help: m.STOP_HELP })),
  cancel: () => import('./commands/cancel.js').then((m) => ({ run: m.cancelCommand, help: m.CANCEL_HELP })),
  savepoint: () => import('./commands/savepoint.js').then((m) => ({ run: m.savepointCommand, help: m.SAVEPOINT_HELP })),
  logs: () => import('./commands/logs.js').then((m) => ({ run: m.logsCommand, help: m.LOGS_HELP })),
  forget: () => import('./commands/forget.js').then((m) => ({ run: m.forgetCommand, help: m.FORGET_HELP })),
  upgrade: () => import('./commands/upgrade.js').then((m) => ({ run: m.upgradeCommand, help: m.UPGRADE_HELP })),
  schema: () => import('./commands/schema.js').then((m) => ({ run: m.schemaCommand, help: m.SCHEMA_HELP })),
  cluster: () => import('./commands/cluster.js').then((m) => ({ run: m.clusterCommand, help: m.CLUSTER_HELP })),
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
    process.stdout.write(`${topic ? (await topic()).help : HELP}\n`);
    return EXIT.OK;
  }
  if (command === 'version' || command === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`sluice ${pkg.version}\n`);
    return EXIT.OK;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`unknown command '${command}'\n\n${HELP}\n`);
    return EXIT.USAGE;
  }
  return (await load()).run(rest);
}
