/**
 * The TLS-and-authentication instances of NATS, Redis, PostgreSQL and Mosquitto (see
 * `scripts/secure-services.sh` for what runs where), started by that script when they do
 * not answer (certificates made with openssl the first time; about 0.1 s when all run).
 * Called from the `beforeAll` of the transport-security tests, not the global setup: no
 * other test pays for them. The servers are left running; `scripts/secure-services.sh stop`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { SluiceError } from '../../src/errors/index.js';

/** How long the first start may take: certificates, initdb, four kinds of server. */
export const SECURE_SETUP_TIMEOUT_MS = 120_000;

/** The credentials every secure instance accepts (test values, made up for these servers). */
export const SECURE_USER = 'sluice';
export const SECURE_PASSWORD = 'sluice-pass';
export const SECURE_TOKEN = 'sluice-token';

/** The ports of `scripts/secure-services.sh`. */
export const SECURE_PORTS = {
  natsUsers: 14222,
  natsToken: 14223,
  natsExpired: 14224,
  natsWrongHost: 14225,
  redis: 16379,
  redisExpired: 16380,
  postgres: 15432,
  mqtt: 18883,
  mqttExpired: 18884,
  mqttWrongHost: 18885,
} as const;

/** Paths of the test certificates (PEM files). */
export interface SecureCerts {
  dir: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  clientExpiredCert: string;
  clientExpiredKey: string;
  nkeySeed: string;
}

export function ensureSecureServices(): SecureCerts {
  const script = fileURLToPath(new URL('../../scripts/secure-services.sh', import.meta.url));
  execFileSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: SECURE_SETUP_TIMEOUT_MS });
  const dir = execFileSync('bash', [script, 'env'], { encoding: 'utf8' }).trim().replace(/^SLUICE_SECURE_DIR=/, '');
  const certs = join(dir, 'certs');
  const c = (name: string): string => join(certs, name);
  return {
    dir,
    ca: c('ca.pem'),
    clientCert: c('client.pem'),
    clientKey: c('client.key'),
    clientExpiredCert: c('client-expired.pem'),
    clientExpiredKey: c('client-expired.key'),
    nkeySeed: readFileSync(c('nkey.seed'), 'utf8'),
  };
}

/** What opening a reader or writer threw (it is closed either way); fails the test if it opened. */
export async function openFailure(part: { open?: () => unknown; close?: () => unknown }): Promise<SluiceError> {
  try {
    await part.open!();
  } catch (e) {
    await part.close?.();
    return e as SluiceError;
  }
  await part.close?.();
  throw new Error('it opened');
}

/**
 * `e` is CONNECTOR_AUTH (when `says` is about refused credentials) or CONNECTOR_TLS (a
 * certificate or handshake), its message names the connector and where (`names`), says
 * `says`, and does not quote `hidden`.
 */
export function expectAuthFailure(e: SluiceError, names: RegExp, says: RegExp, hidden = 'not-the-password'): void {
  expect(e.code).toBe(says.source.includes('credentials') ? 'CONNECTOR_AUTH' : 'CONNECTOR_TLS');
  expect(e.message).toMatch(names);
  expect(e.message).toMatch(says);
  expect(e.message).not.toContain(hidden);
}

/** Waits (at most `timeoutMs`, polling) until `count()` reaches `n`; the caller's assertions say what was missing. */
export async function untilCount(count: () => number, n: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
