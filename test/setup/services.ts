/**
 * Vitest global setup: makes sure PostgreSQL, Redis, NATS (JetStream), Mosquitto and RabbitMQ answer
 * on 127.0.0.1 before any test runs, by running `scripts/services.sh` (which starts only
 * what is not already answering). Connector tests run against these real services.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  if (process.env.SLUICE_SERVICES_VERBOSE) process.stdout.write(out);
}
