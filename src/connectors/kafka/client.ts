import { loadOptional } from '../shared/optional-client.js';
import { readCommittedConsumer } from './read-committed.js';

/** The Kafka client library, as a module. */
export type KafkaClient = typeof import('@platformatic/kafka');

let loading: Promise<KafkaClient> | undefined;

/**
 * Loads the Kafka client on first use. Importing it takes ~0.4 s of CPU here, which
 * every `import 'sluice'` (and every worker thread of a parallel run) would otherwise
 * pay whether or not the job reads or writes Kafka.
 */
export function loadKafkaClient(): Promise<KafkaClient> {
  // Its consumers with `read_committed` fixed (`read-committed.ts`): every reader Sluice makes comes from here.
  return (loading ??= loadOptional('@platformatic/kafka', 'the Kafka connectors', () => import('@platformatic/kafka')).then((kafka) => ({ ...kafka, Consumer: readCommittedConsumer(kafka.Consumer) })));
}

/** Closes a consumer or producer, ignoring errors (it may be closing because it failed). Not an `Admin`: its `close` takes a callback, and `true` would be called. */
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
