import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SluiceError } from '../../errors/index.js';
import { useToken } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { printError } from '../print-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The shared frame of the commands that talk to a running job over its REST API:
 * parses `[job] [--url U] [own options]`, prints help, and maps failures to exit codes
 * (2 usage, 4 no job / refused).
 */
export async function remoteCommand(
  argv: string[],
  help: string,
  options: Options,
  body: (job: string | undefined, url: string | undefined, values: Record<string, string | boolean | undefined>) => Promise<number>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, url: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${help}\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(`${help}\n`);
    return EXIT.OK;
  }
  if (parsed.positionals.length > 1) {
    process.stderr.write(`at most one job name, got ${parsed.positionals.join(' ')}\n\n${help}\n`);
    return EXIT.USAGE;
  }
  useToken({ token: parsed.values.token as string | undefined, tokenFile: parsed.values['token-file'] as string | undefined });
  try {
    return await body(parsed.positionals[0], parsed.values.url as string | undefined, parsed.values as Record<string, string | boolean | undefined>);
  } catch (e) {
    printError(e);
    return e instanceof SluiceError && (e.code === 'SERVER_UNAVAILABLE' || e.code === 'UNAUTHENTICATED') ? EXIT.NO_JOB : EXIT.JOB_FAILED;
  }
}

export const URL_OPTION_HELP = `  --url URL       the job's server (default: ask 127.0.0.1:8081-8100)
  --token T       the bearer token for a server with authentication (else $SLUICE_TOKEN)
  --token-file F  read the bearer token from a file (else $SLUICE_TOKEN_FILE)
  -h, --help      show this help`;
