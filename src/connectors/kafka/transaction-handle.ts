// Apart from `transactions.ts` so that the public types do not name the client package's.

/** What a checkpoint keeps of a pre-committed Kafka transaction. */
export interface KafkaTransactionHandle {
  readonly transactionalId: string;
  /** The producer id, as a decimal string (a bigint does not survive every checkpoint encoding). */
  readonly producerId: string;
  readonly producerEpoch: number;
}
