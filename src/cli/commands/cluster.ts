import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { KafkaConnectionOptions } from '../../connectors/kafka/connection.js';
import { clusterStatus, type ClusterStatus } from '../../cluster/status.js';
import { SluiceError } from '../../errors/index.js';
import { EXIT } from '../exit-codes.js';
import { printError } from '../print-error.js';
import { table } from './list.js';

export const CLUSTER_HELP = `Usage: sluice cluster status --kafka BROKERS --cluster NAME [--kafka-access FILE] [--json]

Shows a cluster (members started with 'sluice run job.ts --cluster NAME') as Kafka
knows it; the members are not asked, and nothing is joined or committed. It prints the
state of the cluster's consumer group, its members (member id, --member name, host), the
partitions each owns (its tasks) with their committed offset, end offset and lag, and the
cluster's internal topics with their partition counts.

Options:
  --kafka BROKERS  the cluster's Kafka brokers, host:port[,host:port…]
  --cluster NAME   the cluster's name
  --kafka-access FILE  TLS and SASL to brokers that want them: a JSON file with the
                   Kafka connectors' "tls" and "sasl" options, e.g. {"tls": {"ca": "ca.pem"},
                   "sasl": {"mechanism": "SCRAM-SHA-512", "username": "ops",
                   "password": {"env": "KAFKA_PASSWORD"}}} (secrets as references)
  --json           everything as one JSON object
  -h, --help       show this help

Lag is the end offset (the last stable offset: open transactions are not counted) minus
the committed offset. It is approximate while records flow: offsets also count
transaction markers and aborted records, and members commit at checkpoints, so what they
read since the last one counts as lag. A partition read to its end shows 0 once its
member has checkpointed (members commit their position past the markers).

Exit codes: 0 shown, 2 usage error, 4 no such cluster (CLUSTER_NOT_FOUND) or the brokers
did not answer (BROKER_UNAVAILABLE), 1 any other failure.`;

const OPTIONS = {
  kafka: { type: 'string' },
  cluster: { type: 'string' },
  'kafka-access': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `sluice cluster <subcommand>`: `status` for now. */
export async function clusterCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${CLUSTER_HELP}\n`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${CLUSTER_HELP}\n`);
    return EXIT.OK;
  }
  const usage = (message: string) => (process.stderr.write(`${message}\n\n${CLUSTER_HELP}\n`), EXIT.USAGE);
  if (positionals[0] !== 'status' || positionals.length > 1) return usage(positionals.length === 0 ? "a subcommand is missing: 'sluice cluster status'" : `unknown subcommand '${positionals.join(' ')}' (there is: status)`);
  if (values.kafka === undefined || values.cluster === undefined) return usage('--kafka and --cluster are required');
  let access: Pick<KafkaConnectionOptions, 'tls' | 'sasl'> = {};
  if (values['kafka-access'] !== undefined) {
    try {
      const read = JSON.parse(readFileSync(values['kafka-access'], 'utf8')) as Record<string, unknown>;
      access = { ...(read.tls === undefined ? {} : { tls: read.tls as KafkaConnectionOptions['tls'] }), ...(read.sasl === undefined ? {} : { sasl: read.sasl as KafkaConnectionOptions['sasl'] }) };
    } catch (e) {
      return usage(`--kafka-access ${values['kafka-access']}: not a readable JSON file (${(e as Error).message})`);
    }
  }
  try {
    const status = await clusterStatus(values.kafka, values.cluster, access);
    process.stdout.write(values.json ? `${JSON.stringify(status)}\n` : statusText(status));
    return EXIT.OK;
  } catch (e) {
    printError(e);
    if (!(e instanceof SluiceError)) return EXIT.JOB_FAILED;
    if (e.code === 'CLUSTER_NOT_FOUND' || e.code === 'BROKER_UNAVAILABLE') return EXIT.NO_JOB;
    return e.code === 'INVALID_ARGUMENT' ? EXIT.USAGE : EXIT.JOB_FAILED;
  }
}

const dash = (v: number | string | undefined) => (v === undefined ? '-' : String(v));

/** The status for a person: a summary line, then tables of members, partitions and internal topics. */
function statusText(s: ClusterStatus): string {
  const job = s.job === undefined ? 'no job registered' : `job ${s.job.slice(0, 12)}`;
  const head = `cluster ${s.cluster}: group ${s.state}, ${s.members.length} member(s), ${job}, lag ${s.lag} (brokers ${s.brokers.join(',')})\n`;
  const members =
    s.members.length === 0
      ? 'no members\n'
      : table(
          ['MEMBER', 'INSTANCE', 'HOST', 'TASKS', 'LAG'],
          s.members.map((m) => [m.memberId, dash(m.instanceId), m.host, String(m.tasks.length), String(m.lag)]),
        );
  const partitions =
    s.partitions.length === 0
      ? 'no partitions read by the group\n'
      : table(
          ['TOPIC', 'ROLE', 'PARTITION', 'MEMBER', 'COMMITTED', 'END', 'LAG'],
          s.partitions.map((p) => [p.topic, p.role, String(p.partition), dash(p.member), dash(p.committed), String(p.end), dash(p.lag)]),
        );
  const topics = table(
    ['INTERNAL TOPIC', 'KIND', 'PARTITIONS'],
    s.topics.map((t) => [t.ambiguous ? `${t.name} (?)` : t.name, t.kind, String(t.partitions)]),
  );
  const note = s.topics.some((t) => t.ambiguous) ? "(?): the name could be another cluster's topic too; counted here by the longest cluster name\n" : '';
  return [head, members, partitions, topics + note].join('\n');
}
