import { randomUUID } from 'node:crypto';
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { SluiceError } from '../../errors/index.js';
import { SystemClock, type Clock } from '../../time/clock.js';
import { toMillis, type Duration } from '../../time/duration.js';
import type { Lookup } from '../lookup.js';
import { Wakeup, wait } from '../shared/wait.js';
import { checkTlsOptions } from '../../net/tls.js';
import { checkSaslOptions, closeReading, kafkaClientOptions, loadKafkaClient } from './client.js';
import type { KafkaConnectionOptions } from './connection.js';
import { brokerList, codecOf, type KafkaFormat } from './format.js';

/** Options of {@link kafkaTableLookup}. */
export interface KafkaTableLookupOptions<V> extends KafkaConnectionOptions {
  /** The compacted topic holding the table: the latest record per key is its value, a tombstone (null value) removes it. */
  topic: string;
  /** How record values become values (default `'json'`). A lookup of a key whose latest value cannot be decoded fails with LOOKUP_FAILED. */
  format?: KafkaFormat<V>;
  /** Names the lookup in errors and metrics (default the topic). */
  name?: string;
  /** Read only committed transactional records (default true). */
  readCommitted?: boolean;
  /** How long the first lookup may wait for the table to be read up to the topic's end (default 60 s). */
  loadTimeout?: Duration;
  /** Keys asked in one call at most (default 500). */
  maxBatch?: number;
  /** The client id shown in broker logs (default `sluice-table-<topic>`). */
  clientId?: string;
  /** Where the load deadline is measured (default the system clock). */
  clock?: Clock;
}

/** A {@link Lookup} of a compacted Kafka topic, from {@link kafkaTableLookup}. */
export interface KafkaTableLookup<V> extends Lookup<string, V> {
  /** Keys in the table now. */
  readonly size: number;
  /** Resolves once the table holds the whole topic as it was when the lookup started reading (the first `get` waits for this too). */
  ready(): Promise<void>;
  /** Stops following the topic and leaves its group. */
  close(): Promise<void>;
}

/**
 * A compacted Kafka topic as the table of a `lookupJoin`: the lookup reads the whole topic
 * into memory (the latest value per key; a tombstone deletes the key), answers from there,
 * and keeps following the topic, so later updates and deletes are seen as they arrive.
 * The first lookup waits until the table has caught up with the topic's end offsets as
 * they were when reading began (last stable offsets, under `read_committed`), so no
 * lookup answers from a half-read table. It reads as a consumer of a group of its own
 * (`sluice-table-<uuid>`, never committed). `close()` stops it.
 *
 * Keys are the Kafka record keys as UTF-8 text. Memory grows with the number of keys:
 * for a table too large for memory, read it as a stream with {@link kafkaTable} into
 * keyed state instead (a temporal join).
 *
 * @example
 * const users = kafkaTableLookup<User>({ brokers: '127.0.0.1:9092', topic: 'users' });
 * lookupJoin(clicks, users, { uid: 'users', key: (c) => c.user, join: (c, u) => ({ ...c, country: u?.country }), onMiss: 'null' });
 */
export function kafkaTableLookup<V>(options: KafkaTableLookupOptions<V>): KafkaTableLookup<V> {
  brokerList(options.brokers, 'kafkaTableLookup');
  checkTlsOptions(options.tls, 'kafkaTableLookup');
  checkSaslOptions(options.sasl, 'kafkaTableLookup');
  if (typeof options.topic !== 'string' || options.topic === '') throw new SluiceError('INVALID_ARGUMENT', 'kafkaTableLookup: topic must be a non-empty string');
  const codec = codecOf(options.format, 'kafkaTableLookup');
  const loadTimeout = toMillis(options.loadTimeout ?? 60_000, 'kafkaTableLookup loadTimeout');
  const name = options.name ?? options.topic;
  const topic = options.topic;
  const clock = options.clock ?? new SystemClock();
  const isolationLevel = options.readCommitted === false ? 0 : 1;
  const table = new Map<string, V>();
  /** Keys whose latest value could not be decoded, with why: a lookup of one fails (until a good value or a tombstone replaces it). */
  const bad = new Map<string, SluiceError>();
  const arrived = new Wakeup();
  const stopping = new AbortController();
  let failure: unknown;
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let loading: Promise<void> | undefined;

  const failed = (doing: string, e: unknown) =>
    e instanceof SluiceError ? e : new SluiceError('LOOKUP_FAILED', `kafkaTableLookup '${name}': ${doing} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });

  const apply = (m: Message<Buffer, Buffer, Buffer, Buffer>): void => {
    if (m.key == null) return; // no key, no row: compaction would not keep it either
    const key = m.key.toString('utf8');
    bad.delete(key);
    if (m.value == null) {
      table.delete(key);
      return;
    }
    try {
      table.set(key, codec.decode(m.value));
    } catch (e) {
      table.delete(key);
      bad.set(key, failed(`decoding the value of key ${JSON.stringify(key)} (${topic}/${m.partition}@${m.offset})`, e));
    }
  };

  const load = async (): Promise<void> => {
    const kafka = await loadKafkaClient();
    const conn = await kafkaClientOptions(options, `kafkaTableLookup '${name}'`);
    const c = (consumer = new kafka.Consumer({
      clientId: options.clientId ?? `sluice-table-${topic}`,
      ...conn,
      groupId: `sluice-table-${randomUUID()}`,
      autocommit: false,
      isolationLevel,
      maxWaitTime: 100,
    }));
    const ends = ((await c.listOffsets({ topics: [topic], isolationLevel })).get(topic) ?? []).map(Number);
    const s = (stream = await c.consume({ topics: [topic], mode: 'earliest', isolationLevel }));
    s.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      apply(m);
      arrived.wake();
    });
    s.on('error', (e: unknown) => {
      failure ??= failed('reading the topic', e);
      arrived.wake();
    });
    // Caught up once every partition's next fetch offset reached its end offset and
    // nothing fetched waits in the stream (fetch offsets step over transaction markers).
    const caughtUp = () =>
      s.readableLength === 0 &&
      ends.every((end, p) => {
        if (end === 0) return true;
        const at = s.offsetsToFetch.get(`${topic}:${p}`);
        return at !== undefined && Number(at) >= end;
      });
    const deadline = clock.now() + loadTimeout;
    while (!caughtUp()) {
      if (failure !== undefined) throw failure;
      if (stopping.signal.aborted) throw new SluiceError('LOOKUP_FAILED', `kafkaTableLookup '${name}': closed while loading`);
      if (clock.now() >= deadline) throw new SluiceError('LOOKUP_FAILED', `kafkaTableLookup '${name}': the table was not read up to the end of ${topic} within ${loadTimeout} ms (${table.size} keys so far)`);
      await wait(clock, 50, stopping.signal, arrived);
    }
  };

  const ready = async (): Promise<void> => {
    loading ??= load().catch(async (e) => {
      loading = undefined; // the next lookup tries again
      const s = stream;
      const c = consumer;
      stream = undefined;
      consumer = undefined;
      await closeReading(s, c);
      throw failed(`loading ${topic}`, e);
    });
    await loading;
    if (failure !== undefined) throw failure;
  };

  return {
    name,
    maxBatch: options.maxBatch ?? 500,
    get size() {
      return table.size;
    },
    ready,
    async get(keys) {
      await ready();
      for (const k of keys) {
        const e = bad.get(k);
        if (e) throw e;
      }
      return keys.map((k) => table.get(k));
    },
    async close() {
      stopping.abort();
      const s = stream;
      const c = consumer;
      stream = undefined;
      consumer = undefined;
      await closeReading(s, c);
    },
  };
}
