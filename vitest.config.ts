import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import 'sluice' as users do; tests load them from the sources (tsc does the same through the 'sluice-source' condition).
  resolve: { alias: [{ find: /^sluice$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Services the connector and state tests need (PostgreSQL, Redis, NATS, Mosquitto; Kafka, Cassandra): started if not answering.
    globalSetup: ['test/setup/services.ts', 'test/setup/kafka.ts', 'test/setup/cassandra.ts'],
    // Tests that start services share them: keep files in one process pool of bounded size.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
  },
});
