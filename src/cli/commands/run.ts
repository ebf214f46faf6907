import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT } from '../exit-codes.js';
import { SluiceError } from '../../errors/index.js';
import { loadJobModule } from '../../launch/job-module.js';
import type { StartedJob } from '../../launch/job.js';
import type { ServerOptions } from '../../server/server.js';
import type { LogLevel } from '../../observe/job-log.js';
import type { Duration } from '../../time/duration.js';
import { printError } from '../print-error.js';
import { ProgressLine } from '../progress.js';
import { splitJobArguments } from '../job-arguments.js';

export const RUN_HELP = `Usage: sluice run <job.ts> [options] [-- job arguments]

Runs a job file (TypeScript or JavaScript; no build step needed) until it finishes, or
until Ctrl-C. The file's default export is a Job, or a function returning one.

Options:
  --from-savepoint PATH          start from a savepoint (else from the job's latest checkpoint, if any)
  --from-checkpoint ID|PATH|none resume from this checkpoint (an id of the job's, a checkpoint
                                 directory) rather than the latest, or from the beginning (none);
                                 for a job that refuses to resume because its latest checkpoint is
                                 damaged (CHECKPOINT_CORRUPT): output the sinks committed after the
                                 chosen one is written again; newer checkpoints move to quarantine/
  --allow-non-restored-state     drop savepoint state of steps the job no longer has
  --parallelism N                run each step as N subtasks on N threads (default: the job's,
                                 else 1); from a savepoint of another parallelism, state rescales;
                                 with --cluster: N stream threads, each a member of the group
  --cluster NAME                 run as one member of cluster NAME: keyed exchanges go through
                                 Kafka repartition topics, members share the work through the
                                 cluster's consumer group, state goes to changelog topics and
                                 output commits in Kafka transactions (needs --kafka)
  --kafka BROKERS                the cluster's Kafka brokers, host:port[,host:port…]
  --cluster-partitions N         partitions of the cluster's repartition topics (default: the
                                 most partitions of the job's Kafka source topics)
  --member NAME                  this member's stable name in the cluster (static membership:
                                 a restart under it within the session timeout moves no tasks)
  --session-timeout D            how soon the tasks of a member that died move (default 10s):
                                 shorter fails over sooner, and takes a pause for a death
  --transaction-timeout D        how long the broker keeps a dead member's transaction open,
                                 holding back read_committed readers of its output (default 10s)
  --standbys N                   warm copies of each task's state on N other members (default 0):
                                 a dead member's tasks move where their state already is
  --state-dir DIR                where a member keeps copies of its tasks' state (default
                                 <tmpdir>/sluice-cluster): restarted under the same --member, it
                                 takes them instead of reading the changelogs
  --explain                      print the plan and exit without running
  --port N                       serve the dashboard, REST API and /metrics on port N (default 8081,
                                 or the next free port; 0: any free port)
  --host H                       the address to serve on (default 127.0.0.1). Any other address
                                 needs authentication (--tokens-file or --jwks-url) or --insecure
  --insecure                     serve on a --host beyond loopback without authentication (logged
                                 as a warning): anyone who reaches it can savepoint, stop, cancel
  --tokens-file F                bearer tokens of the REST API and dashboard: a JSON file
                                 { "tokens": [{ "sha256"|"token", "subject", "roles", "claims"? }] }
                                 with roles viewer (read), operator (savepoint, stop, cancel), admin
  --jwks-url URL                 also take JWTs signed by a key of this JWKS (OIDC); roles from
                                 the claim 'roles' (or --jwt-roles-claim, a dotted path)
  --jwt-issuer ISS               the issuer a JWT must name
  --jwt-audience AUD             the audience a JWT must name
  --jwt-roles-claim PATH         the claim holding the roles (default roles)
  --policy F                     attribute rules (JSON) on top of roles: allow/deny actions by
                                 token claims and the job's labels
  --metrics-open                 serve /metrics without a token (for Prometheus)
  --audit-dir DIR                the audit log's directory (default .sluice/audit): control
                                 actions and refused requests, JSON lines, one file per day
  --allowed-host NAME            a further name the server answers to in the Host header, beside
                                 its address (and 127.0.0.1, localhost, [::1] on loopback);
                                 repeatable. Requests naming any other host are answered 421
  --tls-cert F --tls-key F       serve the dashboard, REST API and /metrics over HTTPS with this
                                 certificate chain and private key (PEM files)
  --tls-ca F                     mutual TLS: only clients with a certificate of this CA (PEM) get
                                 in; it counts as authentication for a --host beyond loopback
  --no-server                    no dashboard, REST API or /metrics
  --log-level L                  JSON logs on stderr at trace|debug|info|warn|error|silent
                                 (default info, or $SLUICE_LOG_LEVEL)
  --no-progress                  no live progress line (shown only when stderr is a terminal)
  --savepoint-on-stop            on SIGTERM or Ctrl-C, stop with a savepoint (under
                                 .sluice/savepoints/<job>/; its path goes to stderr) rather than
                                 only cancel; a job without checkpoints is cancelled as before
  -h, --help                     show this help

While it runs, the job serves its dashboard at http://127.0.0.1:8081/ (the log line
'dashboard and REST API on …' says where); see 'sluice list', 'sluice status'.
SIGTERM and Ctrl-C stop the job (exit code 0): sources that can end their input (HTTP
ingest) take no new input and hand out what they accepted. When every source can, the job
then finishes (final checkpoint, commit). Otherwise a last checkpoint is taken once they
have, the sinks commit it, and the job is cancelled; its checkpoints are kept, so the next
run resumes from the latest. A second Ctrl-C exits at once.`;

/** The options of `sluice run` (`sluice upgrade` passes the same ones on to the jobs it starts). */
export const RUN_OPTIONS = {
  explain: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'from-savepoint': { type: 'string' },
  'from-checkpoint': { type: 'string' },
  'allow-non-restored-state': { type: 'boolean' },
  parallelism: { type: 'string' },
  cluster: { type: 'string' },
  kafka: { type: 'string' },
  'cluster-partitions': { type: 'string' },
  member: { type: 'string' },
  'session-timeout': { type: 'string' },
  'transaction-timeout': { type: 'string' },
  standbys: { type: 'string' },
  'state-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  insecure: { type: 'boolean' },
  'tokens-file': { type: 'string' },
  'jwks-url': { type: 'string' },
  'jwt-issuer': { type: 'string' },
  'jwt-audience': { type: 'string' },
  'jwt-roles-claim': { type: 'string' },
  policy: { type: 'string' },
  'metrics-open': { type: 'boolean' },
  'audit-dir': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'no-server': { type: 'boolean' },
  'log-level': { type: 'string' },
  'no-progress': { type: 'boolean' },
  'savepoint-on-stop': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** The `server.auth` and `server.audit` options of the command line (none when no flag is given: the job's own apply). */
function serverAuth(v: { [K in 'tokens-file' | 'jwks-url' | 'jwt-issuer' | 'jwt-audience' | 'jwt-roles-claim' | 'policy' | 'audit-dir']?: string | undefined } & { 'metrics-open'?: boolean | undefined }): Pick<ServerOptions, 'auth' | 'audit'> {
  const jwksUrl = v['jwks-url'];
  const auth = {
    ...(v['tokens-file'] === undefined ? {} : { tokensFile: v['tokens-file'] }),
    ...(jwksUrl === undefined ? {} : { jwt: { jwksUrl, issuer: v['jwt-issuer'], audience: v['jwt-audience'], rolesClaim: v['jwt-roles-claim'] } }),
    ...(v.policy === undefined ? {} : { policy: v.policy }),
    ...(v['metrics-open'] ? { metricsOpen: true } : {}),
  };
  return { ...(Object.keys(auth).length > 0 ? { auth } : {}), ...(v['audit-dir'] === undefined ? {} : { audit: { dir: v['audit-dir'] } }) };
}

/** The `server.tls` option of `--tls-cert`, `--tls-key` and `--tls-ca` (none without them; one without the other is refused). */
function serverTlsFlags(v: { 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined; 'tls-ca'?: string | undefined }): Pick<ServerOptions, 'tls'> {
  const { 'tls-cert': cert, 'tls-key': key, 'tls-ca': ca } = v;
  if (cert === undefined && key === undefined && ca === undefined) return {};
  if (cert === undefined || key === undefined) throw new SluiceError('INVALID_ARGUMENT', 'sluice run: --tls-cert and --tls-key go together (and --tls-ca needs both)');
  return { tls: { cert, key, ...(ca === undefined ? {} : { ca }) } };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { own, jobArgs } = splitJobArguments(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: own, allowPositionals: true, options: RUN_OPTIONS });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${RUN_HELP}\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(`${RUN_HELP}\n`);
    return EXIT.OK;
  }
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  const logLevel = parsed.values['log-level'] ?? process.env.SLUICE_LOG_LEVEL ?? 'info';
  if (!levels.includes(logLevel)) {
    process.stderr.write(`--log-level must be one of ${levels.join(', ')}, got '${logLevel}'\n`);
    return EXIT.USAGE;
  }
  const port = parsed.values.port === undefined ? undefined : Number(parsed.values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
    process.stderr.write(`--port must be a port number, got '${parsed.values.port}'\n`);
    return EXIT.USAGE;
  }
  const parallelism = parsed.values.parallelism === undefined ? undefined : Number(parsed.values.parallelism);
  if (parallelism !== undefined && !(Number.isInteger(parallelism) && parallelism >= 1)) {
    process.stderr.write(`--parallelism must be a positive integer, got '${parsed.values.parallelism}'\n`);
    return EXIT.USAGE;
  }
  const clusterName = parsed.values.cluster;
  if ((clusterName === undefined) !== (parsed.values.kafka === undefined)) {
    process.stderr.write('--cluster and --kafka go together: a cluster runs on Kafka\n');
    return EXIT.USAGE;
  }
  const clusterPartitions = parsed.values['cluster-partitions'] === undefined ? undefined : Number(parsed.values['cluster-partitions']);
  if (clusterPartitions !== undefined && !(Number.isInteger(clusterPartitions) && clusterPartitions >= 1)) {
    process.stderr.write(`--cluster-partitions must be a positive integer, got '${parsed.values['cluster-partitions']}'\n`);
    return EXIT.USAGE;
  }
  const standbys = parsed.values.standbys === undefined ? undefined : Number(parsed.values.standbys);
  if (standbys !== undefined && !(Number.isInteger(standbys) && standbys >= 0)) {
    process.stderr.write(`--standbys must be a whole number (0 or more), got '${parsed.values.standbys}'\n`);
    return EXIT.USAGE;
  }
  const timeouts: { sessionTimeout?: Duration; transactionTimeout?: Duration } = {};
  for (const [flag, key] of [['session-timeout', 'sessionTimeout'], ['transaction-timeout', 'transactionTimeout']] as const) {
    const value = parsed.values[flag];
    if (value === undefined) continue;
    if (!/^\d+(\.\d+)?(ms|s|m)$/.test(value)) {
      process.stderr.write(`--${flag} takes a duration such as 3s or 500ms, got '${value}'\n`);
      return EXIT.USAGE;
    }
    timeouts[key] = value as Duration;
  }
  const file = parsed.positionals[0];
  if (!file || parsed.positionals.length > 1) {
    process.stderr.write(`sluice run needs exactly one job file\n\n${RUN_HELP}\n`);
    return EXIT.USAGE;
  }
  let job;
  try {
    job = await loadJobModule(file, jobArgs);
  } catch (e) {
    printError(e);
    return EXIT.BAD_JOB_FILE;
  }
  if (parsed.values.explain) {
    process.stdout.write(`${job.explain()}\n`);
    return EXIT.OK;
  }
  const started = performance.now();
  const tty = process.stderr.isTTY === true && !parsed.values['no-progress'];
  let progress: ProgressLine | undefined;
  let running: StartedJob;
  try {
    running = job.start({
      fromSavepoint: parsed.values['from-savepoint'],
      fromCheckpoint: parsed.values['from-checkpoint'],
      allowNonRestoredState: parsed.values['allow-non-restored-state'] ?? false,
      parallelism,
      ...(clusterName === undefined ? {} : { cluster: { name: clusterName, brokers: parsed.values.kafka!, partitions: clusterPartitions, member: parsed.values.member, standbys, stateDir: parsed.values['state-dir'], ...timeouts } }),
      onRestart: (error, n, delay) =>
        process.stderr.write(`job '${job.name}' failed (${(error as Error).message.split('\n')[0]}); restart ${n} in ${delay}ms\n`),
      observe: {
        server: parsed.values['no-server']
          ? false
          : { port, host: parsed.values.host, insecure: parsed.values.insecure, allowedHosts: parsed.values['allowed-host'], ...serverAuth(parsed.values), ...serverTlsFlags(parsed.values) },
        logLevel: logLevel as LogLevel,
        logDestination: { write: (line) => (progress ? progress.log(line) : process.stderr.write(line)) },
      },
    });
    if (tty) {
      progress = new ProgressLine(running.monitor, job.graph.nodes.every((n) => !n.source || n.source.bounded || n.uid === 'dead-letters'));
      progress.start();
    }
  } catch (e) {
    printError(e);
    return EXIT.JOB_FAILED;
  }
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C: stop now
    // Sources that can end their input (HTTP ingest) stop taking it and hand out what they
    // accepted: a job whose every source ends so finishes, final checkpoint and commit
    // included, and nothing acknowledged is lost (test/cli/graceful-stop.test.ts).
    if (running.drain()) {
      process.stderr.write(`\ndraining job '${job.name}': its sources take no new input; it ends once what they accepted is written (Ctrl-C again to exit at once)\n`);
      return;
    }
    if (!parsed.values['savepoint-on-stop']) {
      // Some source reads on (Kafka): once the stopped ones have handed out what they
      // accepted, a last checkpoint covers it and the sinks commit it; then the job ends.
      process.stderr.write(`\nstopping job '${job.name}': a last checkpoint, its commit, then it ends (Ctrl-C again to exit at once)\n`);
      void running.stopAfterCheckpoint().catch((e: unknown) => {
        process.stderr.write(`job '${job.name}' stopped without a last checkpoint (${(e as Error).message.split('\n')[0]}); the next run resumes from the latest\n`);
      });
      return;
    }
    process.stderr.write(`\nstopping job '${job.name}' with a savepoint (Ctrl-C again to exit at once)\n`);
    void stopWithSavepoint(running, job.name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await running.done.finally(() => progress?.stop());
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

/**
 * Stops a job with a savepoint at its default path and says where it went. A job that
 * cannot take one (no checkpoints, already ending) or whose savepoint fails is cancelled
 * instead: its checkpoints, if any, are kept, so a later run still resumes.
 * Pinned by test/cli/savepoint-on-stop.test.ts.
 */
async function stopWithSavepoint(running: StartedJob, name: string): Promise<void> {
  try {
    const h = await running.monitor.savepoint(undefined, true);
    process.stderr.write(`savepoint ${h.path} written (checkpoint ${h.checkpointId}); job '${name}' stopping\n`);
  } catch (e) {
    process.stderr.write(`no savepoint of job '${name}' (${(e as Error).message.split('\n')[0]}); cancelling it\n`);
    running.cancel();
  }
}
