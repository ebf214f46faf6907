/**
 * Riding out a Kafka broker that is away (killed and restarted, failing over, unreachable
 * for a while). What failed for want of a broker is retried with backoff, for up to the
 * connector's `brokerUnavailableTimeout`; after that the connector fails with
 * BROKER_UNAVAILABLE. Two layers do it:
 *
 * - the client's own retries ({@link clientRetryOptions}): a produce, fetch, metadata or
 *   group request that fails on a lost connection or a retriable broker error is sent
 *   again, on a new connection, with backoff, for about the timeout. This is the layer
 *   that keeps a producer's transaction and a consumer's stream alive across a restart;
 *   it is also the only safe one for produce requests, which the client retries per
 *   broker with the same sequence numbers (the broker drops a batch it already has);
 * - {@link rideOut}, around the connector's own steps (begin a transaction, commit one
 *   again by its producer id and epoch, fence ids, open a reader): the step is run again
 *   while its failure is transient ({@link isTransient}) and the deadline has not passed.
 *
 * Pinned by `test/connectors/kafka/faults.test.ts` (a private broker, SIGKILLed mid-run).
 */
import { SluiceError } from '../../errors/index.js';
import type { Clock } from '../../time/clock.js';
import { toMillis, type Duration } from '../../time/duration.js';
import { wait } from '../shared/wait.js';
import type { KafkaClient } from './client.js';

/** The default `brokerUnavailableTimeout`: how long a broker may be away before the connector fails. */
export const DEFAULT_BROKER_UNAVAILABLE_TIMEOUT_MS = 120_000;

/** The first wait: the Java client's `retry.backoff.ms` (a coordinator ending a transaction answers "not now" for about that long). */
const FIRST_BACKOFF_MS = 100;
/**
 * The longest wait between two tries. It bounds how late a connector notices that the
 * broker is back (the first output after a restart comes at most this much later).
 */
const MAX_BACKOFF_MS = 1000;

/** The wait before try `attempt + 1` (0-based): 100 ms doubling to 1 s. */
export function backoffMs(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16));
}

/** How many backoff steps add up to at least `timeoutMs`. */
export function retriesFor(timeoutMs: number): number {
  let n = 0;
  for (let total = 0; total < timeoutMs; n++) total += backoffMs(n);
  return n;
}

/**
 * The client options that make the client's own retries last about `timeoutMs`, with
 * backoff. The count is finite on purpose: a retry loop of a client that was closed
 * meanwhile ends by itself. Once `stopping()` says so, the retries left run without
 * waiting (a consumer that closes while the broker is away would otherwise retry its
 * LeaveGroup for the whole timeout, and hold the process that long).
 */
export function clientRetryOptions(
  timeoutMs: number,
  stopping: () => boolean = () => false,
): { retries: number; retryDelay: (client: unknown, operation: string, attempt: number) => number } {
  return { retries: retriesFor(timeoutMs), retryDelay: (_client, _operation, attempt) => (stopping() ? 0 : backoffMs(attempt - 1)) };
}

interface ClientError {
  code?: unknown;
  canRetry?: unknown;
  errors?: unknown[];
  message?: unknown;
}

/**
 * Whether a client error says only that no broker could serve the request now: every
 * error inside it is a network error (no connection, a connection lost, a request that
 * timed out) or a broker error the client marks retriable (COORDINATOR_LOAD_IN_PROGRESS,
 * NOT_COORDINATOR, LEADER_NOT_AVAILABLE, CONCURRENT_TRANSACTIONS, …). A fenced producer,
 * an unknown topic or a bad request is not transient: retrying would not help.
 */
export function isTransient(kafka: Pick<KafkaClient, 'NetworkError'>, e: unknown): boolean {
  const err = e as ClientError | undefined;
  if (!err || typeof err !== 'object') return false;
  if (Array.isArray(err.errors) && err.errors.length > 0) return err.errors.every((inner) => isTransient(kafka, inner));
  // Time-outs carry the network code but say canRetry: false (the client does not resend them).
  if (err.code === kafka.NetworkError.code) return true;
  return err.canRetry === true;
}

/** What {@link rideOut} needs to know. */
export interface RideOutOptions {
  readonly kafka: Pick<KafkaClient, 'NetworkError'>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** The step and connector, for the error: "step 'out' (kafka sink, topic orders)". */
  readonly where: string;
  readonly step: string;
  readonly brokers: readonly string[];
  /** Told of every transient failure that will be retried (tests, logs). */
  readonly onRetry?: (error: unknown, attempt: number) => void;
  /** Stop retrying (the connector closes): the last failure is thrown as it is. */
  readonly signal?: AbortSignal;
  /** When the wait began, if before this call (default: now): the deadline counts from it. */
  readonly since?: number;
}

/**
 * Runs `call` until it succeeds; while it fails transiently (`retriable`, by default
 * {@link isTransient}), runs it again after a backoff, until `timeoutMs` have passed since
 * the first try: then throws BROKER_UNAVAILABLE with the last failure as its cause. Other
 * failures are thrown at once. `what` completes "could not …" in the error.
 *
 * The deadline holds while a try is under way, too (the client's own retries, nested,
 * can outlast it): the try is then left to the connector's close, which ends it.
 */
export async function rideOut<R>(what: string, call: () => Promise<R>, o: RideOutOptions, retriable = (e: unknown) => isTransient(o.kafka, e)): Promise<R> {
  const started = o.since ?? o.clock.now();
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      return await withDeadline(call(), started + o.timeoutMs, o.clock);
    } catch (e) {
      if (e === DEADLINE) throw brokerUnavailable(what, last ?? new Error('no answer'), o.clock.now() - started, o);
      last = e;
      if (!retriable(e) || o.signal?.aborted) throw e;
      const waited = o.clock.now() - started;
      if (waited + backoffMs(attempt) > o.timeoutMs) throw brokerUnavailable(what, e, waited, o);
      o.onRetry?.(e, attempt);
      await wait(o.clock, backoffMs(attempt), o.signal);
      if (o.signal?.aborted) throw e;
    }
  }
}

const DEADLINE: unique symbol = Symbol('deadline');

/**
 * `work`, or a rejection with {@link DEADLINE} once the clock reaches `at`, whichever
 * comes first. What `work` does after the deadline is ignored.
 */
export function withDeadline<R>(work: Promise<R>, at: number, clock: Clock): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const cancel = clock.schedule(at, () => reject(DEADLINE));
    work.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e);
      },
    );
  });
}

/** Whether `e` is the rejection of a {@link withDeadline} that ran out. */
export function isDeadline(e: unknown): boolean {
  return e === DEADLINE;
}

/** The error of a connector that waited `waitedMs` for a broker, in vain. */
export function brokerUnavailable(what: string, cause: unknown, waitedMs: number, o: Pick<RideOutOptions, 'where' | 'step' | 'brokers' | 'timeoutMs'>): SluiceError {
  return new SluiceError(
    'BROKER_UNAVAILABLE',
    `${o.where} could not ${what}: no Kafka broker of ${o.brokers.join(',')} served it for ${(waitedMs / 1000).toFixed(1)} s (brokerUnavailableTimeout: ${o.timeoutMs} ms)`,
    { step: o.step, cause, detail: errorText(cause) },
  );
}

/** A client error as one line: its message and those of the errors inside it. */
export function errorText(e: unknown): string {
  const err = e as ClientError | undefined;
  const message = e instanceof Error ? e.message : String(e);
  const inner = Array.isArray(err?.errors) ? [...new Set(err.errors.map((x) => errorText(x)))] : [];
  return inner.length > 0 ? `${message} (${inner.join('; ')})` : message;
}

/** Validates a `brokerUnavailableTimeout` option; milliseconds. */
export function brokerTimeoutOf(value: Duration | undefined, where: string): number {
  const ms = value === undefined ? DEFAULT_BROKER_UNAVAILABLE_TIMEOUT_MS : toMillis(value, `${where} brokerUnavailableTimeout`);
  if (!(Number.isFinite(ms) && ms >= 1000)) throw new SluiceError('INVALID_ARGUMENT', `${where}: brokerUnavailableTimeout must be at least 1s, got ${String(value)}`);
  return ms;
}
