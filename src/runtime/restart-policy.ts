import { SluiceError } from '../errors/index.js';
import { toMillis, type Duration } from '../time/duration.js';

/**
 * What happens when a running job fails: restart it from its latest checkpoint after a
 * delay, up to a number of attempts, or give up at once.
 *
 * @example
 * new Job({ checkpoints: { interval: '1s' }, restart: { strategy: 'exponential-backoff', initialDelay: '100ms', maxDelay: '10s', attempts: 10 } })
 */
export type RestartPolicy =
  | { strategy: 'none' }
  | { strategy: 'fixed-delay'; attempts: number; delay: Duration }
  | { strategy: 'exponential-backoff'; attempts: number; initialDelay: Duration; maxDelay: Duration; multiplier?: number };

/** Decides restarts: `delayFor(n)` is the wait before restart n (1-based), or undefined to give up. */
export interface RestartDecider {
  readonly maxAttempts: number;
  delayFor(restart: number): number | undefined;
  describe(): string;
  /** Failures that are not the job's (a cluster rebalance): restarted at once and not counted. */
  free?(error: unknown): boolean;
}

export function restartDecider(policy: RestartPolicy): RestartDecider {
  switch (policy.strategy) {
    case 'none':
      return { maxAttempts: 0, delayFor: () => undefined, describe: () => 'no restarts' };
    case 'fixed-delay': {
      const attempts = checkAttempts(policy.attempts);
      const delay = toMillis(policy.delay, 'restart delay');
      return { maxAttempts: attempts, delayFor: (n) => (n <= attempts ? delay : undefined), describe: () => `up to ${attempts} restarts, ${delay}ms apart` };
    }
    case 'exponential-backoff': {
      const attempts = checkAttempts(policy.attempts);
      const initial = toMillis(policy.initialDelay, 'initial restart delay');
      const max = toMillis(policy.maxDelay, 'maximum restart delay');
      const m = policy.multiplier ?? 2;
      if (!(m >= 1)) throw new SluiceError('INVALID_ARGUMENT', `restart multiplier must be at least 1, got ${String(m)}`);
      return {
        maxAttempts: attempts,
        delayFor: (n) => (n <= attempts ? Math.min(max, initial * m ** (n - 1)) : undefined),
        describe: () => `up to ${attempts} restarts, ${initial}ms doubling to ${max}ms`,
      };
    }
    default:
      throw new SluiceError('INVALID_ARGUMENT', `unknown restart strategy ${JSON.stringify((policy as { strategy: unknown }).strategy)}`);
  }
}

function checkAttempts(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new SluiceError('INVALID_ARGUMENT', `restart attempts must be a non-negative integer, got ${String(n)}`);
  return n;
}
