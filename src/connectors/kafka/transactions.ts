/**
 * Kafka transaction coordinator requests that the client's Producer does not offer:
 * committing a transaction prepared by an earlier process (from its transactional id,
 * producer id and epoch, kept in a checkpoint: what Flink's KafkaSink does with
 * reflection) and fencing transactional ids so that transactions left open by a crashed
 * writer are aborted at once rather than at their timeout.
 */
import type { Connection, ConnectionPool } from '@platformatic/kafka';
import type { KafkaClient, KafkaClientConnection } from './client.js';
import { isTransient, rideOut, type RideOutOptions } from './outage.js';
import type { KafkaTransactionHandle } from './transaction-handle.js';

/** The outcome of committing a handle again. */
export type ResumeOutcome = 'committed' | 'already-finished';

/**
 * Coordinator answers that mean "not now": the coordinator is loading its log after a
 * restart, has moved, or is still ending the transaction. Retried with backoff, as are
 * network errors (see `isTransient` in outage.ts, which covers these as well).
 */
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

/** Whether a coordinator request that failed with `e` may succeed when sent again later. */
export function coordinatorRetriable(kafka: Pick<KafkaClient, 'NetworkError'>, e: unknown): boolean {
  return isTransient(kafka, e) || kafkaErrorIds(e).some((id) => RETRIABLE.has(id));
}

/**
 * Talks to the transaction coordinators of a cluster. Every request rides out a broker
 * that is away or a coordinator that is loading (`rideOut`, up to the connector's
 * `brokerUnavailableTimeout`): recovery after a broker restart waits for the broker
 * instead of failing the job.
 */
export class TransactionCoordinators {
  private readonly pool: ConnectionPool;
  private readonly brokers: readonly string[];

  constructor(
    private readonly kafka: KafkaClient,
    conn: KafkaClientConnection,
    clientId: string,
    private readonly rideOutOptions: RideOutOptions,
  ) {
    this.brokers = conn.bootstrapBrokers;
    this.pool = new kafka.ConnectionPool(clientId, { connectTimeout: 5_000, requestTimeout: 30_000, tls: conn.tls, sasl: conn.sasl });
  }

  private async coordinator(transactionalId: string): Promise<Connection> {
    const any = await this.pool.getFirstAvailable(this.brokers.map((b) => ({ host: b.slice(0, b.lastIndexOf(':')), port: Number(b.slice(b.lastIndexOf(':') + 1)) })));
    const found = await this.kafka.findCoordinatorV6.api.async(any, 1, [transactionalId]);
    const c = found.coordinators[0];
    if (!c || c.errorCode !== 0) throw Object.assign(new Error(`no coordinator for ${transactionalId} (error ${c?.errorCode})`), { apiId: 'COORDINATOR_NOT_AVAILABLE' });
    return this.pool.get({ host: c.host, port: c.port });
  }

  /** `call` on the coordinator of `transactionalId`, riding out a broker that is away since `since` (default now). */
  private withRetry<R>(what: string, transactionalId: string, call: (c: Connection) => Promise<R>, since?: number): Promise<R> {
    // A connection the broker dropped leaves the pool by itself: each try finds the coordinator afresh.
    const options = since === undefined ? this.rideOutOptions : { ...this.rideOutOptions, since };
    return rideOut(what, async () => call(await this.coordinator(transactionalId)), options, (e) => coordinatorRetriable(this.kafka, e));
  }

  /**
   * Commits a transaction prepared by an earlier writer. 'already-finished': the id is at
   * a newer epoch, so this transaction was ended before. The sink reuses an id only after
   * its transaction committed, and fences ids only after committing every restored
   * handle, so that means committed, unless the coordinator aborted it when it outlived
   * its transaction timeout (that is the one way a checkpoint's output can be lost).
   */
  async resumeCommit(h: KafkaTransactionHandle, since?: number): Promise<ResumeOutcome> {
    try {
      const commit = (c: Connection) => this.kafka.endTxnV4.api.async(c, h.transactionalId, BigInt(h.producerId), h.producerEpoch, true);
      await this.withRetry(`commit transaction ${h.transactionalId}`, h.transactionalId, commit, since);
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
    const r = await this.withRetry(`fence transactional id ${transactionalId}`, transactionalId, (c) => this.kafka.initProducerIdV5.api.async(c, transactionalId, transactionTimeoutMs, -1n, -1));
    return r.producerEpoch > 0;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
