import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors/index.js';
import { toMillis, toPositiveMillis } from '../../src/time/duration.js';
import { thrown } from '../helpers.js';

describe('toMillis', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 3 s ', 3000],
    ['0s', 0],
    [20, 20],
    [0, 0],
  ] as const)('%j is %d ms', (d, ms) => {
    expect(toMillis(d as never)).toBe(ms);
  });

  it.each([[-1], ['-5s'], ['5 parsecs'], ['abc'], [''], ['5'], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [{}]])(
    'refuses %j with INVALID_DURATION',
    (d) => {
      const e = thrown(() => toMillis(d as never, 'timeout'));
      expect(e).toBeInstanceOf(SluiceError);
      expect((e as SluiceError).code).toBe('INVALID_DURATION');
      expect((e as SluiceError).message).toContain('timeout');
    },
  );

  it('toPositiveMillis refuses zero', () => {
    expect(toPositiveMillis('1ms')).toBe(1);
    expect((thrown(() => toPositiveMillis(0)) as SluiceError).code).toBe('INVALID_DURATION');
  });
});
