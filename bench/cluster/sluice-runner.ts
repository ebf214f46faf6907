/**
 * Sluice cluster members as a user runs them: one `sluice run <job> --cluster <name>
 * --kafka <brokers> --member <name> --no-server --no-progress` process each (node
 * bin/sluice.mjs, the TypeScript sources through tsx, as in a checkout).
 */
import { fileURLToPath } from 'node:url';
import { logFileOf, startProcess, type EngineProcess } from './processes.js';
import type { Contender, RunNames } from './throughput.js';
import type { ClusterWindowCountOptions } from '../jobs/cluster-window-count.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/sluice.mjs`;

/** The window-count job and the restore job (bench/jobs/). */
export const WINDOW_COUNT_JOB = `${root}bench/jobs/cluster-window-count.ts`;
export const KEY_COUNT_JOB = `${root}bench/jobs/cluster-key-count.ts`;

export interface MemberOptions {
  readonly job: string;
  /** The job's options, passed as its one argument (JSON). */
  readonly jobOptions: object;
  readonly cluster: string;
  readonly brokers: string;
  readonly member: string;
  /** `--parallelism`: stream threads in the process, each a member of the group (default 1). */
  readonly threads?: number;
  /** `--session-timeout` and `--transaction-timeout` (default: the member's, 10 s each). */
  readonly timeoutMs?: number;
  /** `--standbys N`: warm copies of each task's state on N other members (default 0). */
  readonly standbys?: number;
  /** `--log-level` (default info: checkpoints, restarts, restores; a line a second). */
  readonly logLevel?: 'info' | 'warn';
  readonly onLine?: (line: string) => void;
}

/** The command line of one member, for the report (the job options JSON quoted for a shell). */
export function memberCommand(o: MemberOptions): string[] {
  return [
    'node', bin, 'run', o.job, '--cluster', o.cluster, '--kafka', o.brokers, '--member', o.member,
    ...(o.threads === undefined || o.threads === 1 ? [] : ['--parallelism', String(o.threads)]),
    ...(o.timeoutMs === undefined ? [] : ['--session-timeout', `${o.timeoutMs}ms`, '--transaction-timeout', `${o.timeoutMs}ms`]),
    ...(o.standbys === undefined || o.standbys === 0 ? [] : ['--standbys', String(o.standbys)]),
    '--no-server', '--no-progress', '--log-level', o.logLevel ?? 'info', '--', JSON.stringify(o.jobOptions),
  ];
}

export function startMember(o: MemberOptions): EngineProcess {
  const [, ...args] = memberCommand(o);
  return startProcess(o.member, process.execPath, args, { cwd: root, onLine: o.onLine, logFile: logFileOf(o.cluster, o.member) });
}

/** `node bin/sluice.mjs run … -- '{"…"}'`, shortened to the repository's paths, for printing. */
export function printable(command: string[]): string {
  return command.map((a) => (a.startsWith('{') ? `'${a}'` : a.replace(root, ''))).join(' ');
}

/** Sluice as a contender of the throughput runs: `instances` members m0… of `threads` stream threads each, cluster named after the run. */
export function sluiceContender(instances: number, threads: number, o: { brokers: string; latenessMs: number; checkpointMs: number }): Contender {
  const member = (run: RunNames, i: number): MemberOptions => ({
    job: WINDOW_COUNT_JOB,
    jobOptions: { brokers: o.brokers, input: run.input, output: run.output, lateness: o.latenessMs, checkpointMs: o.checkpointMs } satisfies ClusterWindowCountOptions,
    cluster: run.id,
    brokers: o.brokers,
    member: `m${i}`,
    threads,
  });
  return {
    engine: 'Sluice',
    instances,
    threads,
    start: (run) => Array.from({ length: instances }, (_, i) => startMember(member(run, i))),
    group: (run) => run.id,
    command: (run) => printable(memberCommand(member(run, 0))),
  };
}
