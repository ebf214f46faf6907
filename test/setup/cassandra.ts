/**
 * Vitest global setup: makes sure Apache Cassandra answers on 127.0.0.1:9042 before any
 * test runs, by running `scripts/cassandra/start.sh` (a no-op when one is already up; the
 * first run on a machine downloads the server from Maven Central and starts it, which takes
 * a minute or more). The server is left running; `scripts/cassandra/stop.sh` stops it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/cassandra/start.sh', import.meta.url));
  const r = spawnSync('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0) {
    throw new Error(`scripts/cassandra/start.sh failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
}
