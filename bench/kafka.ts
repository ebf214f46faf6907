/**
 * Kafka → Sluice → Kafka pass-through, exactly-once, beside Kafka's own performance tools
 * on the same broker in the same run (`npm run bench -- kafka [--records N] [--checkpoint ms]`,
 * or `npx tsx bench/kafka.ts`).
 *
 * 1. `ProducerPerformance` (kafka-producer-perf-test) writes N records of 100 bytes into a
 *    fresh 4-partition input topic: its rate is the broker's produce baseline.
 * 2. `ConsumerPerformance` (kafka-consumer-perf-test) reads them: the consume baseline.
 * 3. A Sluice job reads the topic (kafkaSource, bounded at the latest offsets,
 *    read_committed) and writes every record to an output topic (kafkaSink, transactions
 *    committed with checkpoints every `--checkpoint` ms, exactly-once).
 * Prints records/s of each and the ratio Sluice / consumer tool (target >= 0.5), and one
 * JSON line. The broker is started by scripts/kafka/start.sh if none answers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer } from '@platformatic/kafka';
import { Job } from '../src/index.js';
import { kafkaSink, kafkaSource } from '../src/connectors/kafka/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const BROKER = '127.0.0.1:9092';
const TARGET = 0.5;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

function kafkaTool(main: string, args: string[]): string {
  const lib = process.env.SLUICE_KAFKA_HOME ? `${process.env.SLUICE_KAFKA_HOME}/lib` : `${root}.sluice/kafka/lib`;
  return execFileSync('java', ['-Xmx512m', '-cp', `${lib}/*`, main, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

async function endOffsets(topic: string, committed: boolean): Promise<number> {
  const c = new Consumer({ clientId: 'sluice-bench', bootstrapBrokers: [BROKER], groupId: `bench-offsets-${randomUUID()}` });
  try {
    const offsets = await c.listOffsets({ topics: [topic], isolationLevel: committed ? 1 : 0 });
    return (offsets.get(topic) ?? []).reduce((a, o) => a + Number(o), 0);
  } finally {
    await c.close(true);
  }
}

export interface KafkaBenchResult {
  records: number;
  producerPerfPerSec: number;
  consumerPerfPerSec: number;
  consumerPerfFetchPerSec: number;
  sluicePerSec: number;
  sluiceSteadyPerSec: number;
  ratio: number;
  target: number;
  meetsTarget: boolean;
  checkpointMs: number;
  checkpoints: number;
}

export async function runKafkaBench(args: string[]): Promise<KafkaBenchResult> {
  const records = arg(args, '--records', 500_000);
  const checkpointMs = arg(args, '--checkpoint', 1000);
  const start = spawnSync('bash', [`${root}scripts/kafka/start.sh`], { stdio: 'inherit' });
  if (start.status !== 0) throw new Error('scripts/kafka/start.sh failed');

  const id = randomUUID().slice(0, 8);
  const input = `bench-in-${id}`;
  const output = `bench-out-${id}`;
  const admin = new Admin({ clientId: 'sluice-bench', bootstrapBrokers: [BROKER] });
  await admin.createTopics({ topics: [input, output], partitions: 4, replicas: 1 });
  await admin.close();

  // 1. Kafka's producer tool fills the input topic.
  const prodOut = kafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', input, '--num-records', String(records), '--record-size', '100', '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${BROKER}`, 'acks=all', 'linger.ms=5', 'batch.size=65536',
  ]);
  const summary = prodOut.trim().split('\n').at(-1)!;
  const producerPerfPerSec = Number(/([\d.]+) records\/sec/.exec(summary)?.[1] ?? NaN);

  // 2. Kafka's consumer tool reads it.
  const consOut = kafkaTool('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', BROKER, '--topic', input, '--messages', String(records), '--group', `bench-perf-${id}`, '--timeout', '60000',
  ]);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const cols = consOut.trim().split('\n').at(-1)!.split(',').map((s) => s.trim());
  const consumerPerfPerSec = Number(cols[5]);
  const consumerPerfFetchPerSec = Number(cols[9]);

  // 3. Sluice: Kafka → Kafka, exactly-once.
  let first = 0;
  const job = new Job({ name: 'kafka-pass-through', batchSize: 1024, checkpoints: { interval: checkpointMs }, delivery: 'exactly-once' });
  job
    .source(kafkaSource<Buffer>({ brokers: BROKER, topic: input, groupId: `bench-sluice-${id}`, startFrom: 'earliest', format: 'bytes', bounded: true }), { uid: 'in' })
    .map((b) => {
      if (first === 0) first = performance.now();
      return b;
    })
    .sinkTo(kafkaSink<Buffer>({ brokers: BROKER, topic: output, format: 'bytes' }), { uid: 'out' });
  const t0 = performance.now();
  const running = job.start();
  await running.done;
  const t1 = performance.now();
  const written = await endOffsets(output, true);
  const sluicePerSec = records / ((t1 - t0) / 1000);
  const sluiceSteadyPerSec = records / ((t1 - first) / 1000);
  const checkpoints = running.checkpoints.filter((c) => c.status === 'completed').length;
  // Committed output counts transaction markers as offsets too: at least `records`.
  if (written < records) throw new Error(`the output topic has ${written} committed offsets, fewer than the ${records} records read`);

  const ratio = sluicePerSec / consumerPerfPerSec;
  const result: KafkaBenchResult = {
    records,
    producerPerfPerSec: Math.round(producerPerfPerSec),
    consumerPerfPerSec: Math.round(consumerPerfPerSec),
    consumerPerfFetchPerSec: Math.round(consumerPerfFetchPerSec),
    sluicePerSec: Math.round(sluicePerSec),
    sluiceSteadyPerSec: Math.round(sluiceSteadyPerSec),
    ratio: Number(ratio.toFixed(3)),
    target: TARGET,
    meetsTarget: ratio >= TARGET,
    checkpointMs,
    checkpoints,
  };
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
  console.log(`\nKafka ${records.toLocaleString('en-US')} records of 100 bytes, 4 partitions, broker ${BROKER}`);
  console.log(`  kafka-producer-perf-test             ${fmt(producerPerfPerSec)} records/s`);
  console.log(`  kafka-consumer-perf-test             ${fmt(consumerPerfPerSec)} records/s (fetch only: ${Math.round(consumerPerfFetchPerSec).toLocaleString('en-US')})`);
  console.log(`  Sluice Kafka→Kafka exactly-once      ${fmt(sluicePerSec)} records/s (from the first record: ${Math.round(sluiceSteadyPerSec).toLocaleString('en-US')}; ${checkpoints} checkpoints every ${checkpointMs} ms)`);
  console.log(`  ratio Sluice / consumer tool         ${ratio.toFixed(2).padStart(12)}   target >= ${TARGET}: ${ratio >= TARGET ? 'met' : 'NOT met'}`);
  console.log(JSON.stringify({ suite: 'kafka', workload: 'pass-through-exactly-once', ...result }));
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runKafkaBench(process.argv.slice(2));
}
