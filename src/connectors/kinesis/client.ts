import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { loadOptional } from '../shared/optional-client.js';
import type { KinesisConnectionOptions } from './connection.js';

/** The AWS SDK's Kinesis module, loaded on first use (like every connector's client: see `kafka/client.ts`). */
export function loadKinesis(): Promise<typeof import('@aws-sdk/client-kinesis')> {
  return (loading ??= loadOptional('@aws-sdk/client-kinesis', 'the Kinesis connectors', () => import('@aws-sdk/client-kinesis')));
}
let loading: Promise<typeof import('@aws-sdk/client-kinesis')> | undefined;

/** A KinesisClient for these options. */
export async function kinesisClient(opts: KinesisConnectionOptions): Promise<KinesisClient> {
  const { KinesisClient } = await loadKinesis();
  return new KinesisClient({
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...opts.clientConfig,
  });
}
