import { loadOptional } from '../shared/optional-client.js';

/** The Kafka client library, as a module. */
export type KafkaClient = typeof import('@platformatic/kafka');

let loading: Promise<KafkaClient> | undefined;

/**
 * Loads the Kafka client on first use. Importing it takes ~0.4 s of CPU here, which
 * every `import 'sluice'` (and every worker thread of a parallel run) would otherwise
 * pay whether or not the job reads or writes Kafka.
 */
export function loadKafkaClient(): Promise<KafkaClient> {
  return (loading ??= loadOptional('@platformatic/kafka', 'the Kafka connectors', () => import('@platformatic/kafka')));
}

/** Closes a client, ignoring errors (it may be closing because it failed). */
export async function closeQuietly(client: { close(force?: boolean): Promise<void> }): Promise<void> {
  try {
    await client.close(true);
  } catch {
    // already failed or closed
  }
}

/** Closes what a reader reads with, its message stream and then its consumer, ignoring errors (a reader's `close`). */
export async function closeReading(stream: { close(): Promise<void> } | undefined, consumer: { close(force?: boolean): Promise<void> } | undefined): Promise<void> {
  await stream?.close().catch(() => {});
  if (consumer) await closeQuietly(consumer);
}
