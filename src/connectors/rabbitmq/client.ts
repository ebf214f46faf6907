import type { ChannelModel } from 'amqplib';
import { SluiceError } from '../../errors/index.js';
import { loadOptional } from '../shared/optional-client.js';
import type { RabbitmqConnectionOptions } from './connection.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** The URL without its password, for messages. */
export function safeUrl(opts: RabbitmqConnectionOptions): string {
  return (opts.url ?? DEFAULT_URL).replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Connects to RabbitMQ with amqplib (loaded on first use, like every connector's client: see `kafka/client.ts`). */
export async function connectRabbitmq(opts: RabbitmqConnectionOptions, step: string, side: 'source' | 'sink'): Promise<ChannelModel> {
  const amqp = await loadOptional('amqplib', 'the RabbitMQ connectors', () => import('amqplib'));
  try {
    return await amqp.connect(opts.url ?? DEFAULT_URL, { clientProperties: { connection_name: `sluice-${step}` } });
  } catch (e) {
    throw new SluiceError(side === 'sink' ? 'SINK_FAILED' : 'SOURCE_FAILED', `rabbitmq ${side} '${step}': cannot connect to ${safeUrl(opts)}: ${(e as Error).message}`, {
      hint: 'Start rabbitmq-server (scripts/services.sh rabbitmq) or fix `url`.',
      step,
      cause: e,
    });
  }
}
