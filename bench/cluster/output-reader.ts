/**
 * Reads an engine's output topic as it is committed (read_committed, from the earliest
 * offset) and hands each window count to the benchmark with the time it was read.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { closeReading } from '../../src/connectors/kafka/client.js';
import { readCommittedFixed } from '../../src/connectors/kafka/read-committed.js';
import type { WindowCount } from '../jobs/cluster-window-count.js';

export interface OutputRecord {
  readonly value: WindowCount;
  readonly partition: number;
  readonly offset: number;
  /** performance.now() when it was read. */
  readonly readAt: number;
}

export class OutputReader {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Records whose value was not a window count (reported as wrong by the caller). */
  unreadable = 0;

  constructor(
    private readonly brokers: string,
    private readonly topic: string,
    private readonly onRecord: (r: OutputRecord) => void,
  ) {}

  async start(): Promise<void> {
    // Fixed: the client's own read_committed lets aborted transactions through.
    this.consumer = readCommittedFixed(new Consumer({
      clientId: 'sluice-ksbench-output',
      bootstrapBrokers: [this.brokers],
      groupId: `ksbench-reader-${randomUUID()}`,
      isolationLevel: 1,
      autocommit: false,
      maxWaitTime: 50,
    }));
    this.stream = await this.consumer.consume({ topics: [this.topic], mode: 'earliest', isolationLevel: 1, maxWaitTime: 50 });
    this.stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      const readAt = performance.now();
      let value: WindowCount;
      try {
        value = JSON.parse(m.value.toString()) as WindowCount;
      } catch {
        this.unreadable++;
        return;
      }
      this.onRecord({ value, partition: m.partition, offset: Number(m.offset), readAt });
    });
  }

  async close(): Promise<void> {
    await closeReading(this.stream, this.consumer);
  }
}
