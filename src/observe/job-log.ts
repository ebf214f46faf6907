import { pino, type Level, type Logger } from 'pino';

/** Log levels, most verbose first; 'silent' logs nothing to stderr. */
export type LogLevel = Level | 'silent';

/** Options of a job's structured log (`JobOptions.log`). */
export interface LogOptions {
  /** Lines at this level and above go to stderr as JSON. Default 'info' under `sluice run`, 'silent' in embedded runs (tests). */
  level?: LogLevel;
  /** Where the JSON lines go instead of stderr (tests). */
  destination?: {
    /** Takes one JSON line, with its newline. */
    write(line: string): void;
  };
}

/**
 * The structured log of a job: JSON lines (pino) on stderr, so stdout stays for results,
 * with `job` on every line and `step` / `checkpointId` where they apply. The last lines
 * at info and above are also kept in memory for `GET /jobs/:id/logs` and `sluice logs`,
 * whatever the stderr level.
 */
export class JobLog {
  readonly logger: Logger;
  private readonly recentLines: string[] = [];

  constructor(
    readonly job: string,
    options: LogOptions = {},
    private readonly keep = 500,
  ) {
    const level = options.level ?? 'info';
    const ring = {
      write: (line: string) => {
        this.recentLines.push(line);
        if (this.recentLines.length > this.keep) this.recentLines.shift();
      },
    };
    const streams: Array<{ level: Level; stream: { write(s: string): void } }> = [{ level: 'info', stream: ring }];
    if (level !== 'silent') streams.push({ level, stream: options.destination ?? pino.destination({ dest: 2, sync: true }) });
    const lowest = level !== 'silent' && pino.levels.values[level]! < pino.levels.values.info! ? level : 'info';
    this.logger = pino({ level: lowest, base: { job } }, pino.multistream(streams));
  }

  /** The last `limit` lines kept (info and above), oldest first, parsed. */
  recent(limit = 100): Array<Record<string, unknown>> {
    return this.recentLines.slice(-limit).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
