/**
 * Vitest global setup: makes sure an Apache Kafka broker answers on 127.0.0.1:9092 before
 * any test runs, by running `scripts/kafka/start.sh` (a no-op when one is already up; the
 * first run on a machine downloads the broker from Maven Central, hence the long wait).
 * The broker is left running for the next run; `scripts/kafka/stop.sh` stops it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/kafka/start.sh', import.meta.url));
  const r = spawnSync('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0) {
    throw new Error(`scripts/kafka/start.sh failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
}
