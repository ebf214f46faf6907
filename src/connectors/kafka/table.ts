import type { Message } from '@platformatic/kafka';
import type { Source } from '../source.js';
import type { KafkaCodec } from './format.js';
import { kafkaSourceParts, type KafkaSourceOptions } from './source.js';

/**
 * One change of a table read from a compacted topic ({@link kafkaTable}): the key's new
 * value (`upsert`), or its removal (`delete`, from a tombstone: a record whose value is null).
 */
export type KafkaTableChange<V> =
  | {
      /** The Kafka record key, as UTF-8 text. */
      readonly key: string;
      /** The key has this value from the record's time on. */
      readonly op: 'upsert';
      /** The new value, decoded by the table's format. */
      readonly value: V;
    }
  | {
      /** The Kafka record key, as UTF-8 text. */
      readonly key: string;
      /** The key has no value from the record's time on (a tombstone). */
      readonly op: 'delete';
    };

/** Options of {@link kafkaTable}: those of `kafkaSource` (the format decodes values), reading from the earliest offset by default. */
export type KafkaTableOptions<V> = Omit<KafkaSourceOptions<V>, 'timestamp'>;

/** The source {@link kafkaTable} returns: a changelog of upserts and deletes, replayable by offsets, parallel by partitions. */
export interface KafkaTableSource<V> extends Source<KafkaTableChange<V>> {
  readonly kind: 'kafka-table';
  readonly bounded: boolean;
  readonly replayable: true;
  /** The topic read. */
  readonly topic: string;
  /** The options it was made with. */
  readonly options: KafkaTableOptions<V>;
}

/** Whether a table change is a deletion: the `isDelete` of a temporal join over a {@link kafkaTable}. */
export function isTableDelete<V>(change: KafkaTableChange<V>): boolean {
  return change.op === 'delete';
}

/**
 * The change a table record stands for: a null value is a tombstone (delete), anything else
 * an upsert of the decoded value; a record without a key has no row to change (bad record).
 */
const tableChange = <V>(m: Message<Buffer, Buffer, Buffer, Buffer>, codec: KafkaCodec<V>): KafkaTableChange<V> => {
  if (m.key == null) throw new Error('a table record needs a key, and this one has none');
  const key = m.key.toString('utf8');
  return m.value == null ? { key, op: 'delete' } : { key, op: 'upsert', value: codec.decode(m.value) };
};

/**
 * Reads a compacted Kafka topic as a table (Kafka Streams' KTable, Flink's upsert-kafka
 * source): the topic's records become its changelog, the latest value per key with
 * deletes by tombstone. Each record is a {@link KafkaTableChange} timestamped with the Kafka
 * record's time, so a job can rebuild the current state (`keyBy(c => c.key)` and keep the
 * last), or use it as the versions of a temporal join (`isDelete: isTableDelete`). Reading
 * starts from the earliest offset (unless `startFrom` says otherwise), since a table is all
 * of its topic; everything else is as `kafkaSource`: replayable by offsets, parallel by
 * partitions, bad values dead-lettered by the job's policy (and so are records without a key).
 *
 * For a table read at lookup time instead of as a stream, see {@link kafkaTableLookup}.
 *
 * @example
 * const rates = job.source(kafkaTable<Rate>({ brokers, topic: 'rates', groupId: 'pricing', watermarks: { outOfOrderness: '1s', idleTimeout: '10s' } }), { uid: 'rates' });
 * temporalJoin(orders.keyBy((o) => o.currency), rates.keyBy((c) => c.key), {
 *   uid: 'order-rates', kind: 'left', isDelete: isTableDelete,
 *   join: (o, c) => ({ ...o, rate: c?.op === 'upsert' ? c.value.toEur : undefined }),
 * });
 */
export function kafkaTable<V>(options: KafkaTableOptions<V>): KafkaTableSource<V> {
  const opts: KafkaTableOptions<V> = { ...options, startFrom: options?.startFrom ?? 'earliest' };
  return { kind: 'kafka-table', ...kafkaSourceParts<V, KafkaTableChange<V>>(opts, 'kafkaTable', tableChange) };
}
