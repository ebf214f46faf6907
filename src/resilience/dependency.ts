import { BrokenCircuitError, BulkheadPolicy, BulkheadRejectedError, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, bulkhead, circuitBreaker, handleAll } from 'cockatiel';
import { SluiceError } from '../errors/index.js';
import { SystemClock, type Clock } from '../time/clock.js';
import { toMillis, type Duration } from '../time/duration.js';
import { registerDependency } from './registry.js';

/** A circuit breaker's state: `closed` (calls pass), `open` (calls fail at once), `half-open` (a probe decides). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of a dependency's circuit breaker. */
export interface BreakerOptions {
  /** Failures in a row that open the breaker. Default 5. */
  consecutiveFailures?: number;
  /** How long the breaker stays open before it lets a probe through (half-open). Default 30 s. */
  halfOpenAfter?: Duration;
}

/** Options of a dependency's bulkhead: its own pool of concurrent calls. */
export interface BulkheadOptions {
  /** Calls running at once at most. */
  maxConcurrent: number;
  /** Calls that may wait for a slot (default 0: a call beyond `maxConcurrent` fails with BULKHEAD_FULL). */
  maxQueued?: number;
}

/** Options of {@link dependency}. */
export interface DependencyOptions {
  /** The circuit breaker (default: 5 failures in a row, half-open after 30 s); `false`: none. */
  breaker?: BreakerOptions | false;
  /** A concurrency pool for the dependency's calls (default: none). */
  bulkhead?: BulkheadOptions;
  /** The clock the breaker's open time runs on (default: the clock of the first step that uses it, else the system clock). */
  clock?: Clock;
}

/** What a dependency has counted since it was made, read by the metrics. */
export interface DependencyStats {
  /** Transitions into each state. */
  readonly transitions: Record<BreakerState, number>;
  /** Calls refused at once because the breaker was open. */
  rejectedOpen: number;
  /** Calls refused because the bulkhead and its queue were full. */
  rejectedFull: number;
  /** When (on the dependency's clock) the breaker last changed state; undefined while it never has. */
  lastTransitionAt: number | undefined;
}

/**
 * An external service (a database, an HTTP API) that async steps and lookups call: a
 * circuit breaker and a bulkhead around every call to it, shared by every step given the
 * same object. After `consecutiveFailures` failures in a row the breaker opens and calls
 * fail at once with CIRCUIT_OPEN; after `halfOpenAfter` one call goes through as a probe:
 * its success closes the breaker, its failure opens it again. The bulkhead caps the calls
 * running at once, so one slow service cannot take every slot. Built on cockatiel; its
 * open time runs on the injected clock. States, transitions and refusals are metrics
 * (`sluice_breaker_*`, `sluice_bulkhead_*`).
 *
 * @example
 * const users = dependency('users-api', { breaker: { consecutiveFailures: 3, halfOpenAfter: '10s' }, bulkhead: { maxConcurrent: 20 } });
 * clicks.asyncMap(fetchUser, { uid: 'users', dependency: users, timeout: '1s' });
 */
export function dependency(name: string, options: DependencyOptions = {}): Dependency {
  return new Dependency(name, options);
}

/** A named external service with its breaker and bulkhead: made by {@link dependency}. */
export class Dependency {
  private readonly breaker: CircuitBreakerPolicy | undefined;
  private readonly pool: BulkheadPolicy | undefined;
  private readonly poolSize: { readonly maxConcurrent: number; readonly maxQueued: number } | undefined;
  private readonly halfOpenAfterMs: number;
  private clock: Clock | undefined;
  /** While open: when (on the clock) a probe may go through. */
  private openUntil = 0;
  readonly stats: DependencyStats = { transitions: { closed: 0, open: 0, 'half-open': 0 }, rejectedOpen: 0, rejectedFull: 0, lastTransitionAt: undefined };

  /** @internal Made by {@link dependency}. */
  constructor(
    /** Names the dependency in errors and metrics. */
    readonly name: string,
    options: DependencyOptions,
  ) {
    if (typeof name !== 'string' || name === '') throw new SluiceError('INVALID_ARGUMENT', 'dependency() needs a name');
    this.clock = options.clock;
    const b = options.breaker === false ? undefined : (options.breaker ?? {});
    this.halfOpenAfterMs = toMillis(b?.halfOpenAfter ?? 30_000, `dependency '${name}' halfOpenAfter`);
    if (b) {
      const n = b.consecutiveFailures ?? 5;
      if (!Number.isInteger(n) || n < 1) throw new SluiceError('INVALID_ARGUMENT', `dependency '${name}': consecutiveFailures must be an integer ≥ 1, got ${n}`);
      // cockatiel keeps the state machine; its own open time (Date.now) is made zero and
      // the open time kept here on the injected clock: cockatiel sees a call only once
      // `openUntil` has passed, and then lets it through half-open.
      this.breaker = circuitBreaker(handleAll, { halfOpenAfter: 0, breaker: new ConsecutiveBreaker(n) });
      this.breaker.onStateChange((state) => {
        const s = stateName(state);
        this.stats.transitions[s]++;
        this.stats.lastTransitionAt = this.now();
        if (s === 'open') this.openUntil = this.now() + this.halfOpenAfterMs;
      });
    }
    if (options.bulkhead) {
      const { maxConcurrent, maxQueued = 0 } = options.bulkhead;
      if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1 || !Number.isInteger(maxQueued) || maxQueued < 0) {
        throw new SluiceError('INVALID_ARGUMENT', `dependency '${name}': bulkhead maxConcurrent must be an integer ≥ 1 and maxQueued ≥ 0`);
      }
      this.pool = bulkhead(maxConcurrent, maxQueued);
      this.poolSize = { maxConcurrent, maxQueued };
    }
    registerDependency(this);
  }

  /** The breaker's state ('closed' without a breaker). */
  get state(): BreakerState {
    if (!this.breaker) return 'closed';
    const s = stateName(this.breaker.state);
    return s === 'open' && this.now() >= this.openUntil ? 'half-open' : s;
  }

  /** Calls running in the bulkhead, and waiting for a slot (0 without one). */
  get bulkheadUse(): { readonly active: number; readonly queued: number } {
    const pool = this.pool;
    const size = this.poolSize;
    return pool && size ? { active: size.maxConcurrent - pool.executionSlots, queued: size.maxQueued - pool.queueSlots } : { active: 0, queued: 0 };
  }

  /** @internal The clock of the steps that use it, unless one was given. */
  useClock(clock: Clock): void {
    this.clock ??= clock;
  }

  /**
   * Runs `call` through the bulkhead and the breaker. Fails at once with CIRCUIT_OPEN
   * while the breaker is open and with BULKHEAD_FULL when no slot is free. When `signal`
   * aborts (the caller's timeout), the call counts as failed and frees its slot, even if
   * it never settles.
   */
  execute<R>(call: (signal: AbortSignal | undefined) => Promise<R>, signal?: AbortSignal): Promise<R> {
    const breaker = this.breaker;
    if (breaker && breaker.state === CircuitState.Open && this.now() < this.openUntil) {
      this.stats.rejectedOpen++;
      return Promise.reject(this.unavailable('CIRCUIT_OPEN', `its circuit breaker is open until ${this.openUntil} (after failures in a row)`));
    }
    const guarded = signal ? () => untilAborted(call(signal), signal) : () => call(undefined);
    const broken = breaker ? () => breaker.execute(guarded) : guarded;
    const pooled = this.pool ? this.pool.execute(broken) : broken();
    return pooled.catch((e: unknown) => {
      if (e instanceof BulkheadRejectedError) {
        this.stats.rejectedFull++;
        throw this.unavailable('BULKHEAD_FULL', 'its bulkhead has no free slot');
      }
      if (e instanceof BrokenCircuitError) {
        this.stats.rejectedOpen++;
        throw this.unavailable('CIRCUIT_OPEN', 'its circuit breaker is open');
      }
      throw e;
    });
  }

  private unavailable(code: 'CIRCUIT_OPEN' | 'BULKHEAD_FULL', why: string): SluiceError {
    return new SluiceError(code, `dependency '${this.name}' refused the call: ${why}`);
  }

  private now(): number {
    return (this.clock ??= new SystemClock()).now();
  }
}

function stateName(state: CircuitState): BreakerState {
  return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open';
}

/** `work`, or a rejection with the signal's reason once it aborts (a timeout): the breaker counts it, the bulkhead frees its slot. */
function untilAborted<R>(work: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
