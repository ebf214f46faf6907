import type { BreakerState } from '../resilience/dependency.js';
import { registeredDependencies } from '../resilience/registry.js';

/** A dependency's circuit breaker and bulkhead at one moment, as JSON (`GET /jobs/:id`, the metrics snapshot, the dashboard). */
export interface DependencySnapshot {
  /** The dependency's name. */
  readonly name: string;
  /** Its breaker's state now ('closed' without a breaker). */
  readonly state: BreakerState;
  /** Transitions into each state since it was made. */
  readonly transitions: Readonly<Record<BreakerState, number>>;
  /** When the breaker last changed state (epoch ms on its clock), null while it never has. */
  readonly lastTransitionAt: number | null;
  /** Calls refused at once because the breaker was open. */
  readonly rejectedOpen: number;
  /** Calls refused because the bulkhead was full. */
  readonly rejectedFull: number;
  /** Calls running in the bulkhead and waiting for a slot. */
  readonly bulkhead: { readonly active: number; readonly queued: number };
}

/** The dependencies made in this process (the latest of each name), as the metrics report them. */
export function dependencySnapshots(): DependencySnapshot[] {
  return registeredDependencies().map((d) => ({
    name: d.name,
    state: d.state,
    transitions: { ...d.stats.transitions },
    lastTransitionAt: d.stats.lastTransitionAt ?? null,
    rejectedOpen: d.stats.rejectedOpen,
    rejectedFull: d.stats.rejectedFull,
    bulkhead: d.bulkheadUse,
  }));
}
