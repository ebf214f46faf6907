import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SluiceError } from '../../errors/index.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import { call, resolveJob, useToken, type RemoteJob } from '../client.js';
import { sluiceInvocation, startDetached, waitUntilConfirmed } from '../detached-job.js';
import { EXIT } from '../exit-codes.js';
import { printError } from '../print-error.js';
import { RUN_OPTIONS } from './run.js';
import { splitJobArguments } from '../job-arguments.js';

export const UPGRADE_HELP = `Usage: sluice upgrade <new-job.ts> --previous <old-job.ts> [options] [run options] [-- job arguments]

Replaces a running job by a new version of it (blue-green), carrying its state over:
  1. checks that <new-job.ts> loads (as 'sluice run --explain' does), else stops nothing;
  2. stops the running job with a savepoint;
  3. starts <new-job.ts> from that savepoint in the background
     ('sluice run <new-job.ts> --from-savepoint <savepoint>', in this directory);
  4. waits until it is ready (/readyz) and has completed its first checkpoint;
  5. if it exits, fails or runs out of time first: stops it, starts <old-job.ts> again
     from the same savepoint, and exits with code 5.

The job started writes its stdout and stderr to files under --log-dir. One JSON line on
stdout says what happened: {"status":"upgraded"|"rolled-back", "job", "url", "pid",
"savepoint", "stdout", "stderr"[, "reason"]}.

Options:
  --previous FILE       the running job's file: what runs again if the new version fails (required)
  --job NAME            the running job (default: the only one answering)
  --url URL             its server (default: ask 127.0.0.1:8081-8100)
  --timeout T           how long the new version has to become ready and checkpoint (default 60s)
  --path P              the savepoint's name in the job's savepoint directory (default sp-<time>,
                        in .sluice/savepoints/<job>/ unless the job sets checkpoints.savepointDir);
                        a path outside that directory is refused (see 'sluice savepoint --help')
  --log-dir DIR         where the started job's output goes (default .sluice/upgrades)
  -h, --help            show this help

Run options, passed on to the job started (the new version, or the old one on a rollback):
  --parallelism N, --port N, --host H, --insecure, --allowed-host NAME, --log-level trace|debug|info, --allow-non-restored-state,
  --savepoint-on-stop, --no-progress, --tokens-file F, --jwks-url URL, --jwt-issuer ISS, --jwt-audience AUD,
  --jwt-roles-claim PATH, --policy F, --metrics-open, --audit-dir DIR (see 'sluice run --help').
  --token T / --token-file F (else $SLUICE_TOKEN / $SLUICE_TOKEN_FILE) authenticate to the running job.

Exit codes: 0 upgraded; 1 failed (the savepoint's path is printed when one was taken);
2 usage error; 3 the new job file does not load (nothing was stopped); 4 no running job
answered; 5 the new version failed and the previous one runs again from the savepoint.`;

/** The options of `sluice run` that `upgrade` passes on; the others make no sense for it. */
const PASSED_ON = ['parallelism', 'port', 'host', 'insecure', 'tokens-file', 'jwks-url', 'jwt-issuer', 'jwt-audience', 'jwt-roles-claim', 'policy', 'metrics-open', 'audit-dir', 'allowed-host', 'log-level', 'allow-non-restored-state', 'savepoint-on-stop', 'no-progress'] as const;

export async function upgradeCommand(argv: string[]): Promise<number> {
  const { own, jobArgs } = splitJobArguments(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        previous: { type: 'string' },
        job: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        timeout: { type: 'string' },
        path: { type: 'string' },
        'log-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(PASSED_ON.map((o) => [o, RUN_OPTIONS[o]])),
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  useToken({ token: v.token as string | undefined, tokenFile: v['token-file'] as string | undefined });
  if (v.help) {
    process.stdout.write(`${UPGRADE_HELP}\n`);
    return EXIT.OK;
  }
  const file = parsed.positionals[0];
  if (!file || parsed.positionals.length > 1) return usage('sluice upgrade needs exactly one new job file');
  const previous = v.previous as string | undefined;
  if (!previous) return usage('--previous <old-job.ts> is required: it is what runs again if the new version fails');
  let timeoutMs: number;
  try {
    timeoutMs = toPositiveMillis((v.timeout ?? '60s') as Duration, '--timeout');
  } catch (e) {
    return usage((e as Error).message);
  }
  const logLevel = (v['log-level'] as string | undefined) ?? 'info';
  // The job's address is read from its log: its `server_started` line is at level info.
  if (!['trace', 'debug', 'info'].includes(logLevel)) return usage(`--log-level must be trace, debug or info for upgrade (its address is read from the log), got '${logLevel}'`);
  for (const f of [file, previous]) if (!existsSync(f)) return usage(`no such job file: ${f}`);

  const runOptions: string[] = ['--log-level', logLevel];
  for (const o of PASSED_ON) {
    if (o === 'log-level' || v[o] === undefined) continue;
    const value = v[o] as string | boolean | string[];
    if (value === true) runOptions.push(`--${o}`);
    else for (const one of Array.isArray(value) ? value : [String(value)]) runOptions.push(`--${o}`, one);
  }
  const logDir = resolve((v['log-dir'] as string | undefined) ?? '.sluice/upgrades');
  const runArgs = (job: string, savepoint: string) => [resolve(job), '--from-savepoint', savepoint, ...runOptions, ...(jobArgs.length ? ['--', ...jobArgs] : [])];

  // 1. Refuse a new version that does not even load, before anything is stopped.
  const [node, ...pre] = sluiceInvocation();
  const explain = spawnSync(node!, [...pre, 'run', resolve(file), '--explain', '--', ...jobArgs], { encoding: 'utf8', timeout: timeoutMs });
  if (explain.status !== 0) {
    process.stderr.write(`${explain.stderr || explain.error?.message || ''}the new job file ${file} does not load; the running job was left alone\n`);
    return EXIT.BAD_JOB_FILE;
  }

  // 2. Stop the running job with a savepoint.
  let old: RemoteJob;
  let savepoint: string;
  try {
    old = await resolveJob(v.job as string | undefined, v.url as string | undefined);
    // As given: the job resolves a relative path in its savepoint directory, and answers with the absolute one.
    const path = v.path as string | undefined;
    const r = await call<{ savepoint: { path: string; checkpointId: number } }>(old, '/cancel', { method: 'POST', body: { savepoint: true, path }, timeoutMs: 120_000 });
    savepoint = r.savepoint.path;
    say(`job '${old.id}' at ${old.url} stopped with savepoint ${savepoint} (checkpoint ${r.savepoint.checkpointId})`);
  } catch (e) {
    printError(e);
    return e instanceof SluiceError && e.code === 'SERVER_UNAVAILABLE' ? EXIT.NO_JOB : EXIT.JOB_FAILED;
  }
  const deadline = Date.now() + timeoutMs;
  if (!(await serverGone(old.url, deadline))) {
    process.stderr.write(`job '${old.id}' at ${old.url} still answers ${timeoutMs} ms after it was stopped; not starting a new version beside it. Its savepoint: ${savepoint}\n`);
    return EXIT.JOB_FAILED;
  }

  // 3.-4. Start the new version from the savepoint and wait until it is confirmed.
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const next = startDetached(runArgs(file, savepoint), logDir, `${old.id}-${stamp}-new`);
  say(`started ${file} from the savepoint (pid ${next.pid}; output in ${next.stdoutFile}, ${next.stderrFile})`);
  let reason: string;
  try {
    const c = await waitUntilConfirmed(next, Date.now() + timeoutMs, true);
    next.release();
    say(`upgraded: job '${c.id}' runs ${file} at ${c.url} and completed checkpoint ${c.checkpointId}`);
    report({ status: 'upgraded', job: c.id, url: c.url, pid: next.pid, savepoint, stdout: next.stdoutFile, stderr: next.stderrFile });
    return EXIT.OK;
  } catch (e) {
    reason = (e as Error).message;
  }

  // 5. Roll back: the old job file, from the same savepoint.
  say(`the new version failed: ${reason}\nstopping it (pid ${next.pid}) and starting ${previous} again from ${savepoint}`);
  await next.stop();
  const back = startDetached(runArgs(previous, savepoint), logDir, `${old.id}-${stamp}-previous`);
  try {
    const c = await waitUntilConfirmed(back, Date.now() + timeoutMs, false);
    back.release();
    say(`rolled back: job '${c.id}' runs ${previous} again at ${c.url} (pid ${back.pid})`);
    report({ status: 'rolled-back', reason: reason.split('\n')[0], job: c.id, url: c.url, pid: back.pid, savepoint, stdout: back.stdoutFile, stderr: back.stderrFile });
    return EXIT.ROLLED_BACK;
  } catch (e) {
    await back.stop();
    process.stderr.write(
      `the rollback failed too: ${previous} ${(e as Error).message}\nnothing runs now; start it by hand: sluice run ${previous} --from-savepoint ${savepoint}\n`,
    );
    return EXIT.JOB_FAILED;
  }
}

/** Waits until nothing answers at the old job's address any more (its process has ended). */
async function serverGone(url: string, deadline: number): Promise<boolean> {
  for (;;) {
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    } catch {
      return true;
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${UPGRADE_HELP}\n`);
  return EXIT.USAGE;
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function report(outcome: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
