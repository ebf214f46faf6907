/**
 * Makes sure InfluxDB 1.x answers on 127.0.0.1:8086, by `scripts/services.sh influxdb`
 * (which installs Debian's `influxdb` package the first time, then only starts it when it
 * does not answer; about 0.1 s when it already runs). Called from the `beforeAll` of the
 * tests that need it, not from the global setup: no other test pays for it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How long the first call may take: a package install. */
export const INFLUXDB_SETUP_TIMEOUT_MS = 300_000;

export function ensureInfluxdb(): void {
  const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
  execFileSync('bash', [script, 'influxdb'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: INFLUXDB_SETUP_TIMEOUT_MS });
}
