import type { NatsConnection } from '@nats-io/transport-node';
import { resolveSecret, scrubSecrets } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { NatsConnectionOptions } from './connection.js';
import { loadOptional } from '../shared/optional-client.js';

export async function connectNats(opts: NatsConnectionOptions, step: string, side: 'source' | 'sink'): Promise<NatsConnection> {
  const given = opts.servers ?? '127.0.0.1:4222';
  const servers = await Promise.all((Array.isArray(given) ? given : [given]).map((s) => resolveSecret(s, `nats ${side} '${step}': servers`)));
  // Loaded on first use, like every connector's client: see `kafka/client.ts`.
  const { connect } = await loadOptional('@nats-io/transport-node', 'the NATS connectors', () => import('@nats-io/transport-node'));
  try {
    return await connect({ servers, name: `sluice-${step}` });
  } catch (e) {
    throw new SluiceError(side === 'sink' ? 'SINK_FAILED' : 'SOURCE_FAILED', `nats ${side} '${step}': cannot connect to ${scrubSecrets(`${servers.join(',')}: ${(e as Error).message}`, servers)}`, {
      hint: 'Start nats-server with JetStream (scripts/services.sh) or fix `servers`.',
      step,
    });
  }
}

/** Milliseconds as the nanoseconds JetStream configurations take. */
export const nanos = (ms: number): number => ms * 1_000_000;

/** The JetStream client library, loaded on first use (see `kafka/client.ts`). */
export function loadJetStream(): Promise<typeof import('@nats-io/jetstream')> {
  return (jetStreamLoading ??= loadOptional('@nats-io/jetstream', 'the NATS connectors', () => import('@nats-io/jetstream')));
}
let jetStreamLoading: Promise<typeof import('@nats-io/jetstream')> | undefined;
