/**
 * Kafka transaction coordinator requests that the client's Producer does not offer:
 * committing a transaction prepared by an earlier process (from its transactional id,
 * producer id and epoch, kept in a checkpoint: what Flink's KafkaSink does with
 * reflection) and fencing transactional ids so that transactions left open by a crashed
 * writer are aborted at once rather than at their timeout.
 */
import type { Connection, ConnectionPool } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';
import type { KafkaTransactionHandle } from './transaction-handle.js';

/** The outcome of committing a handle again. */
export type ResumeOutcome = 'committed' | 'already-finished';

const RETRIABLE = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'REQUEST_TIMED_OUT']);
/** The id has moved to a newer epoch: the transaction was ended (see `resumeCommit`). */
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);

/** The Kafka protocol error names inside a client error. */
export function kafkaErrorIds(e: unknown): string[] {
  const err = e as { apiId?: string; errors?: unknown[] };
  const ids: string[] = [];
  if (typeof err?.apiId === 'string') ids.push(err.apiId);
  for (const inner of err?.errors ?? []) ids.push(...kafkaErrorIds(inner));
  return ids;
}

/** Talks to the transaction coordinators of a cluster. */
export class TransactionCoordinators {
  private readonly pool: ConnectionPool;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly brokers: readonly string[],
    clientId: string,
    private readonly retries = 40,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.pool = new kafka.ConnectionPool(clientId, { connectTimeout: 10_000, requestTimeout: 30_000 });
  }

  private async coordinator(transactionalId: string): Promise<Connection> {
    const any = await this.pool.getFirstAvailable(this.brokers.map((b) => ({ host: b.slice(0, b.lastIndexOf(':')), port: Number(b.slice(b.lastIndexOf(':') + 1)) })));
    const found = await this.kafka.findCoordinatorV6.api.async(any, 1, [transactionalId]);
    const c = found.coordinators[0];
    if (!c || c.errorCode !== 0) throw Object.assign(new Error(`no coordinator for ${transactionalId} (error ${c?.errorCode})`), { apiId: 'COORDINATOR_NOT_AVAILABLE' });
    return this.pool.get({ host: c.host, port: c.port });
  }

  private async withRetry<R>(transactionalId: string, call: (c: Connection) => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(await this.coordinator(transactionalId));
      } catch (e) {
        const ids = kafkaErrorIds(e);
        if (attempt >= this.retries || !ids.some((id) => RETRIABLE.has(id))) throw e;
        await this.sleep(Math.min(50 * (attempt + 1), 500));
      }
    }
  }

  /**
   * Commits a transaction prepared by an earlier writer. 'already-finished': the id is at
   * a newer epoch, so this transaction was ended before. The sink reuses an id only after
   * its transaction committed, and fences ids only after committing every restored
   * handle, so that means committed, unless the coordinator aborted it when it outlived
   * its transaction timeout (that is the one way a checkpoint's output can be lost).
   */
  async resumeCommit(h: KafkaTransactionHandle): Promise<ResumeOutcome> {
    try {
      await this.withRetry(h.transactionalId, (c) => this.kafka.endTxnV4.api.async(c, h.transactionalId, BigInt(h.producerId), h.producerEpoch, true));
      return 'committed';
    } catch (e) {
      if (kafkaErrorIds(e).some((id) => FENCED.has(id))) return 'already-finished';
      throw e;
    }
  }

  /**
   * Fences `transactionalId`: a new producer epoch, which aborts a transaction left open
   * under it. Returns true when the id had been used before (epoch > 0 after fencing).
   */
  async fence(transactionalId: string, transactionTimeoutMs: number): Promise<boolean> {
    const r = await this.withRetry(transactionalId, (c) => this.kafka.initProducerIdV5.api.async(c, transactionalId, transactionTimeoutMs, -1n, -1));
    return r.producerEpoch > 0;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
