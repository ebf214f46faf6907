import type { Dependency } from './dependency.js';

/** The dependencies made in this process, by name (the latest of a name): what the metrics report. */
const byName = new Map<string, Dependency>();

/** @internal Called by every new {@link Dependency}: it replaces an older one of its name in the metrics. */
export function registerDependency(d: Dependency): void {
  byName.set(d.name, d);
}

/**
 * The dependencies made in this process (the latest of each name), for the metrics: a
 * dependency is shared by the steps given the same object, whatever job they are in.
 */
export function registeredDependencies(): Dependency[] {
  return [...byName.values()];
}
