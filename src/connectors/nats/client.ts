import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { resolveSecret, scrubSecrets } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { NatsConnectionOptions } from './connection.js';
import { loadOptional } from '../shared/optional-client.js';
import { checkTlsOptions, clientTls } from '../../net/tls.js';
import { authFailure } from '../shared/tls-error.js';

/**
 * Checks the connection options when the source or sink is built: TLS fields, one way to
 * authenticate, a password only with a user (INVALID_ARGUMENT naming the field, never a value).
 */
export function checkNatsConnection(opts: NatsConnectionOptions, who: string): void {
  checkTlsOptions(opts.tls, who);
  const ways = [opts.user !== undefined || opts.password !== undefined, opts.token !== undefined, opts.nkeySeed !== undefined, opts.credentials !== undefined].filter(Boolean).length;
  if (ways > 1) throw new SluiceError('INVALID_ARGUMENT', `${who}: give one way to authenticate: user and password, token, nkeySeed or credentials`);
  if ((opts.user === undefined) !== (opts.password === undefined)) throw new SluiceError('INVALID_ARGUMENT', `${who}: user and password go together`);
  if (opts.user !== undefined && (typeof opts.user !== 'string' || opts.user === '')) throw new SluiceError('INVALID_ARGUMENT', `${who}: user must be a non-empty string`);
  const t = opts.connectTimeoutMs;
  if (t !== undefined && (!Number.isFinite(t) || t <= 0)) throw new SluiceError('INVALID_ARGUMENT', `${who}: connectTimeoutMs must be a positive number, got ${t}`);
}

export async function connectNats(opts: NatsConnectionOptions, step: string, side: 'source' | 'sink'): Promise<NatsConnection> {
  const who = `nats ${side} '${step}'`;
  const given = opts.servers ?? '127.0.0.1:4222';
  const servers = await Promise.all((Array.isArray(given) ? given : [given]).map((s) => resolveSecret(s, `${who}: servers`)));
  // Loaded on first use, like every connector's client: see `kafka/client.ts`.
  const nats = await loadOptional('@nats-io/transport-node', 'the NATS connectors', () => import('@nats-io/transport-node'));
  // A server given as a URL may hold credentials; a bare host:port is no secret (and is named in messages).
  const secrets = servers.filter((s) => s.includes('@'));
  const secret = async (value: NatsConnectionOptions['password'], field: string): Promise<string | undefined> => {
    if (value === undefined) return undefined;
    const v = await resolveSecret(value, `${who}: ${field}`);
    secrets.push(v);
    return v;
  };
  const options: ConnectionOptions = { servers, name: `sluice-${step}`, timeout: opts.connectTimeoutMs ?? 10_000 };
  const tls = clientTls(opts.tls, who);
  if (tls) options.tls = tls as ConnectionOptions['tls'];
  if (opts.user !== undefined) {
    options.user = opts.user;
    options.pass = await secret(opts.password, 'password');
  }
  const token = await secret(opts.token, 'token');
  if (token !== undefined) options.token = token;
  const seed = await secret(opts.nkeySeed, 'nkeySeed');
  if (seed !== undefined) options.authenticator = nats.nkeyAuthenticator(new TextEncoder().encode(seed.trim()));
  const creds = await secret(opts.credentials, 'credentials');
  if (creds !== undefined) options.authenticator = nats.credsAuthenticator(new TextEncoder().encode(creds));
  try {
    return await nats.connect(options);
  } catch (e) {
    const target = servers.join(',');
    throw (
      authFailure(who, target, e, secrets, step) ??
      new SluiceError(side === 'sink' ? 'SINK_FAILED' : 'SOURCE_FAILED', `${who}: cannot connect to ${scrubSecrets(`${target}: ${(e as Error).message}`, secrets)}`, {
        hint: 'Start nats-server with JetStream (scripts/services.sh) or fix `servers`.',
        step,
      })
    );
  }
}

/** Milliseconds as the nanoseconds JetStream configurations take. */
export const nanos = (ms: number): number => ms * 1_000_000;

/** The JetStream client library, loaded on first use (see `kafka/client.ts`). */
export function loadJetStream(): Promise<typeof import('@nats-io/jetstream')> {
  return (jetStreamLoading ??= loadOptional('@nats-io/jetstream', 'the NATS connectors', () => import('@nats-io/jetstream')));
}
let jetStreamLoading: Promise<typeof import('@nats-io/jetstream')> | undefined;
