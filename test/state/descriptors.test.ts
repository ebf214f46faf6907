import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import { aggregatingState, listState, mapState, reducingState, valueState } from '../../src/state/descriptors.js';
import type { AggregateFunction } from '../../src/state/types.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof SluiceError ? e.code : `not a SluiceError: ${String(e)}`;
  }
  return undefined;
}

const count: AggregateFunction<number, number, number> = {
  createAccumulator: () => 0,
  add: (_v, acc) => acc + 1,
  getResult: (acc) => acc,
};

describe('state descriptors', () => {
  it('build frozen descriptors of each kind', () => {
    const d = [
      valueState<number>('v', { defaultValue: 0 }),
      listState<number>('l'),
      mapState<string, number>('m', { ttl: { ttl: '1h' } }),
      reducingState<number>('r', (a, b) => a + b),
      aggregatingState('a', count),
    ];
    expect(d.map((x) => x.kind)).toEqual(['value', 'list', 'map', 'reducing', 'aggregating']);
    for (const x of d) expect(Object.isFrozen(x)).toBe(true);
    expect(d[0]).toMatchObject({ name: 'v', defaultValue: 0, ttl: undefined });
    expect(d[2]!.ttl).toEqual({ ttl: '1h', updateOn: 'create-and-write' });
    expect(Object.isFrozen(d[2]!.ttl)).toBe(true);
  });

  it('reject an empty name', () => {
    expect(codeOf(() => valueState(''))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => listState('  '))).toBe('INVALID_ARGUMENT');
  });

  it('reject a bad TTL at once', () => {
    expect(codeOf(() => valueState('v', { ttl: { ttl: -1 } }))).toBe('INVALID_DURATION');
    expect(codeOf(() => valueState('v', { ttl: { ttl: 0 } }))).toBe('INVALID_DURATION');
    expect(codeOf(() => mapState('m', { ttl: { ttl: '5 parsecs' as '5s' } }))).toBe('INVALID_DURATION');
    expect(codeOf(() => listState('l', { ttl: { ttl: 10, updateOn: 'sometimes' as 'read-and-write' } }))).toBe('INVALID_ARGUMENT');
  });

  it('reject missing functions', () => {
    expect(codeOf(() => reducingState('r', undefined as unknown as (a: number, b: number) => number))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => aggregatingState('a', { createAccumulator: () => 0 } as unknown as typeof count))).toBe('INVALID_ARGUMENT');
  });
});
