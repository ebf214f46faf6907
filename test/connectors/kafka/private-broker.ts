/**
 * A second Kafka broker of one's own, for fault tests that kill it: the shared test broker
 * on 127.0.0.1:9092 serves every other test and must stay up. Started and stopped with the
 * project's scripts (`scripts/kafka/start.sh`, `stop.sh`) on free ports and a fresh home
 * directory; the broker jars are shared with the default broker (`.sluice/kafka/lib`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = fileURLToPath(new URL('../../../scripts/kafka/', import.meta.url));
const sharedLib = fileURLToPath(new URL('../../../.sluice/kafka/lib', import.meta.url));

/** A port nobody listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateBroker {
  /** `'127.0.0.1:<port>'`. */
  readonly address: string;
  readonly port: number;
  readonly home: string;
  /** Starts the broker (again, on the same data after a kill); resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL: no clean shutdown, as a crashed machine. */
  kill(): Promise<void>;
  /** Stops the broker and deletes its home. */
  destroy(): Promise<void>;
}

export async function privateBroker(name = 'faults'): Promise<PrivateBroker> {
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const home = mkdtempSync(join(tmpdir(), `sluice-kafka-${name}-`));
  const env = { ...process.env, SLUICE_KAFKA_PORT: String(port), SLUICE_KAFKA_CONTROLLER_PORT: String(controller), SLUICE_KAFKA_HOME: home, SLUICE_KAFKA_LIB: sharedLib };
  // Not spawnSync: a job in this process keeps running while the broker starts.
  const run = (script: string, ...args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('bash', [join(scripts, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${script} ${args.join(' ')} failed (exit ${code ?? signal}):\n${out}`))));
    });
  return {
    address: `127.0.0.1:${port}`,
    port,
    home,
    start: () => run('start.sh'),
    kill: () => run('stop.sh', '--kill'),
    destroy: async () => {
      try {
        await run('stop.sh', '--kill');
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}
