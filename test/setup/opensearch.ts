/**
 * Makes sure OpenSearch answers on 127.0.0.1:9200, by `scripts/opensearch/start.sh` (a
 * no-op when one already answers; the first run on a machine resolves the server from
 * Maven Central and starts it, about a minute). Called from the `beforeAll` of the tests
 * that need it, not from the global setup: no other test pays for it. The server is left
 * running; `scripts/opensearch/stop.sh` stops it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How long the first call may take: resolving the server and its first start. */
export const OPENSEARCH_SETUP_TIMEOUT_MS = 600_000;

export function ensureOpenSearch(): void {
  const script = fileURLToPath(new URL('../../scripts/opensearch/start.sh', import.meta.url));
  const r = spawnSync('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: OPENSEARCH_SETUP_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`scripts/opensearch/start.sh failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}
