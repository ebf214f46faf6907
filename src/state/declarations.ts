import { SluiceError } from '../errors/index.js';
import { toPositiveMillis } from '../time/duration.js';
import { checkTtl } from './descriptors.js';
import type { StateDescriptor, StateKind } from './types.js';

/** The state kinds a descriptor may have. */
export const KINDS: readonly StateKind[] = ['value', 'list', 'map', 'reducing', 'aggregating'];

/** A state a backend has handed out, with what it was declared as. */
export interface Declared {
  readonly state: unknown;
  readonly kind: StateKind;
  readonly ttlMs: number;
  readonly updateOn: string;
}

/** A checked descriptor: its name and TTL in the form backends keep. */
export interface Declaration {
  readonly name: string;
  readonly ttlMs: number;
  readonly updateOn: 'create-and-write' | 'read-and-write';
}

/**
 * The checks every backend's `getState` makes (shared so that both backends answer the
 * same): the descriptor is one, and a state of the same name declared before has the same
 * kind and TTL. Returns the earlier state object when there is one.
 */
export function checkDeclaration(descriptor: StateDescriptor, declared: ReadonlyMap<string, Declared>): Declaration & { existing?: unknown } {
  const name = descriptor?.name;
  if (typeof name !== 'string' || name === '' || !KINDS.includes(descriptor.kind)) {
    throw new SluiceError('INVALID_ARGUMENT', `not a state descriptor: ${String(name)} (${String(descriptor?.kind)})`, {
      hint: 'Build descriptors with valueState(), listState(), mapState(), reducingState() or aggregatingState().',
    });
  }
  const ttl = checkTtl(name, descriptor.ttl);
  const ttlMs = ttl === undefined ? 0 : toPositiveMillis(ttl.ttl);
  const updateOn = ttl?.updateOn ?? 'create-and-write';
  const existing = declared.get(name);
  if (existing === undefined) return { name, ttlMs, updateOn };
  if (existing.kind !== descriptor.kind || existing.ttlMs !== ttlMs || (ttlMs > 0 && existing.updateOn !== updateOn)) {
    throw new SluiceError(
      'STATE_ALREADY_DECLARED',
      `state '${name}' is already declared as ${describe(existing.kind, existing.ttlMs, existing.updateOn)}, now as ${describe(descriptor.kind, ttlMs, updateOn)}`,
    );
  }
  return { name, ttlMs, updateOn, existing: existing.state };
}

function describe(kind: StateKind, ttlMs: number, updateOn: string): string {
  return ttlMs > 0 ? `${kind} state with a TTL of ${ttlMs} ms (${updateOn})` : `${kind} state without TTL`;
}

/** A restored state whose kind differs from the declared one. */
export function incompatibleKind(name: string, restoredKind: StateKind, declaredKind: StateKind): SluiceError {
  return new SluiceError('STATE_INCOMPATIBLE', `state '${name}' was restored as ${restoredKind} state but is declared as ${declaredKind} state`);
}
