import { parseArgs } from 'node:util';
import { writeEventsJsonl } from '../../nexmark/jsonl.js';
import { isQueryName, QUERY_NAMES } from '../../nexmark/queries/index.js';
import { runNexmark, type NexmarkInput } from '../../nexmark/run.js';
import { EXIT } from '../exit-codes.js';
import { printError } from '../print-error.js';

export const NEXMARK_HELP = `Usage:
  sluice nexmark generate --events N [--seed S] [--rate R] [--ooo G] --out events.jsonl
  sluice nexmark run --query qN (--events N [--seed S] [--rate R] [--ooo G] | --input events.jsonl)
                     [--out out.jsonl] [--watermark-delay MS] [--parallelism P]

The Nexmark benchmark (shared/nexmark/README.md). 'generate' writes events as JSON lines;
'run' runs one query (${QUERY_NAMES.join(', ')}) over generated events or a JSONL file and
prints one JSON line: query, events, outputRows, seconds, eventsPerSecond, cpuSeconds,
eventsPerCpuSecond.

  --rate R   generate: events per second of event time (default 10,000,000).
             run: also paces generation at R events per second of wall-clock time and
             reports end-to-end latency (latencyP50Ms, latencyP99Ms).
  --event-rate R   run: events per second of event time, without pacing (benchmarks).
  --ooo G    shuffle event times within groups of G events (default 1: in order).
  --watermark-delay MS   watermark = max event time - MS - 1 (default 4000, or the
             disorder of --ooo if larger).`;

export async function nexmarkCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(`${NEXMARK_HELP}\n`);
    return sub === undefined ? EXIT.USAGE : EXIT.OK;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        events: { type: 'string' },
        seed: { type: 'string' },
        rate: { type: 'string' },
        'event-rate': { type: 'string' },
        ooo: { type: 'string' },
        out: { type: 'string' },
        input: { type: 'string' },
        query: { type: 'string' },
        parallelism: { type: 'string' },
        'watermark-delay': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${NEXMARK_HELP}\n`);
    return EXIT.OK;
  }
  const num = (name: string, text: string | undefined, integer: boolean): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
    return n;
  };
  try {
    const events = num('events', values.events, true);
    const seed = values.seed === undefined ? undefined : Number(values.seed);
    if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${values.seed}'`);
    const rate = num('rate', values.rate, false);
    const eventRate = num('event-rate', values['event-rate'], false);
    if (rate !== undefined && eventRate !== undefined) return usage('give --rate (paced) or --event-rate (unpaced), not both');
    const ooo = num('ooo', values.ooo, true);
    const config = { ...(seed === undefined ? {} : { seed }), ...(rate === undefined ? {} : { rate }),
      ...(eventRate === undefined ? {} : { rate: eventRate }), ...(ooo === undefined ? {} : { ooo }) };
    if (sub === 'generate') {
      if (events === undefined || values.out === undefined) return usage('nexmark generate needs --events N and --out FILE');
      const t0 = performance.now();
      const bytes = await writeEventsJsonl(values.out, events, config);
      process.stderr.write(`wrote ${events} events (${bytes} bytes) to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(2)}s\n`);
      return EXIT.OK;
    }
    if (sub === 'run') {
      const query = values.query;
      if (query === undefined || !isQueryName(query)) return usage(`nexmark run needs --query, one of ${QUERY_NAMES.join(', ')}`);
      const parallelism = num('parallelism', values.parallelism, true) ?? 1;
      if ((events === undefined) === (values.input === undefined)) return usage('nexmark run needs either --events N (generate) or --input FILE, not both');
      const input: NexmarkInput =
        values.input !== undefined
          ? { kind: 'file', path: values.input }
          : { kind: 'generate', events: events!, ...config, ...(rate === undefined ? {} : { ratePerSecond: rate }) };
      const delay = num('watermark-delay', values['watermark-delay'], true);
      const { report } = await runNexmark({
        query,
        input,
        ...(values.out === undefined ? {} : { out: values.out }),
        ...(delay === undefined ? {} : { watermarkDelayMs: delay }),
        parallelism,
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return EXIT.OK;
    }
    return usage(`unknown nexmark command '${sub}'`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('--')) return usage(e.message);
    printError(e);
    return EXIT.JOB_FAILED;
  }
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${NEXMARK_HELP}\n`);
  return EXIT.USAGE;
}
