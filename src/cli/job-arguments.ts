/**
 * Splits a command line at `--`: the command's own options before it, the job's arguments
 * (passed to a job module's default export when it is a function) after it.
 *
 * @example
 * splitJobArguments(['job.ts', '--parallelism', '2', '--', 'input.csv']); // { own: ['job.ts', '--parallelism', '2'], jobArgs: ['input.csv'] }
 */
export function splitJobArguments(argv: readonly string[]): { own: string[]; jobArgs: string[] } {
  const dashdash = argv.indexOf('--');
  return dashdash >= 0 ? { own: argv.slice(0, dashdash), jobArgs: argv.slice(dashdash + 1) } : { own: [...argv], jobArgs: [] };
}
