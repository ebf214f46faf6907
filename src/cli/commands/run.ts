import { parseArgs } from 'node:util';
import { EXIT } from '../exit-codes.js';
import { loadJob } from '../load-job.js';
import { printError } from '../print-error.js';

export const RUN_HELP = `Usage: sluice run <job.ts> [options] [-- job arguments]

Runs a job file (TypeScript or JavaScript; no build step needed) until it finishes, or
until Ctrl-C. The file's default export is a Job, or a function returning one.

Options:
  --from-savepoint PATH          start from a savepoint (else from the job's latest checkpoint, if any)
  --allow-non-restored-state     drop savepoint state of steps the job no longer has
  --explain                      print the plan and exit without running
  -h, --help                     show this help`;

export async function runCommand(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const jobArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        explain: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'from-savepoint': { type: 'string' },
        'allow-non-restored-state': { type: 'boolean' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${RUN_HELP}\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(`${RUN_HELP}\n`);
    return EXIT.OK;
  }
  const file = parsed.positionals[0];
  if (!file || parsed.positionals.length > 1) {
    process.stderr.write(`sluice run needs exactly one job file\n\n${RUN_HELP}\n`);
    return EXIT.USAGE;
  }
  let job;
  try {
    job = await loadJob(file, jobArgs);
  } catch (e) {
    printError(e);
    return EXIT.BAD_JOB_FILE;
  }
  if (parsed.values.explain) {
    process.stdout.write(`${job.explain()}\n`);
    return EXIT.OK;
  }
  const started = performance.now();
  let running;
  try {
    running = job.start({
      fromSavepoint: parsed.values['from-savepoint'],
      allowNonRestoredState: parsed.values['allow-non-restored-state'] ?? false,
      onRestart: (error, n, delay) =>
        process.stderr.write(`job '${job.name}' failed (${(error as Error).message.split('\n')[0]}); restart ${n} in ${delay}ms\n`),
    });
  } catch (e) {
    printError(e);
    return EXIT.JOB_FAILED;
  }
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C: stop now
    process.stderr.write(`\nstopping job '${job.name}' (Ctrl-C again to exit at once)\n`);
    running.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await running.done;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const resumed = running.restoredFrom === undefined ? '' : ` (resumed from checkpoint ${running.restoredFrom})`;
    const restarts = running.restarts ? `, ${running.restarts} restart(s)` : '';
    process.stderr.write(`job '${job.name}' ${result.status} after ${seconds}s${resumed}${restarts}\n`);
    return EXIT.OK;
  } catch (e) {
    printError(e);
    return EXIT.JOB_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
