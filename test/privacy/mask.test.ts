import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Job, fromCollection, mask } from '../../src/index.js';
import { checkProperty, propertyRuns } from '../property.js';
import { collecting } from '../helpers.js';

interface Payment {
  id: number;
  card?: string;
  email?: string;
  amount: number;
}

describe('mask', () => {
  it.each([
    ['redact', 'redact', '4111111111111111', '***'],
    ['partial keeps the last 4', 'partial', '4111111111111111', '************1111'],
    ['partial with keepFirst and keepLast', { partial: { keepFirst: 2, keepLast: 2 } }, 'ada@example.com', 'ad***********om'],
    ['a short value is hidden whole', 'partial', '123456', '******'],
    ['numbers are masked as strings', 'partial', 4111111111111111, '************1111'],
  ] as const)('%s', (_what, how, value, masked) => {
    expect(mask<{ v: unknown }>(['v'], how)({ v: value })).toEqual({ v: masked });
  });

  it('a keyed hash is deterministic, 64 hex digits, and depends on the key', () => {
    process.env.SLUICE_TEST_MASK_KEY = 'k1';
    const a = mask<{ e: string }>(['e'], { hmac: { env: 'SLUICE_TEST_MASK_KEY' } });
    const b = mask<{ e: string }>(['e'], { hmac: 'k2' });
    expect(a({ e: 'ada@example.com' }).e).toMatch(/^[0-9a-f]{64}$/);
    expect(a({ e: 'ada@example.com' })).toEqual(a({ e: 'ada@example.com' }));
    expect(a({ e: 'ada@example.com' })).not.toEqual(a({ e: 'bob@example.com' }));
    expect(a({ e: 'ada@example.com' })).not.toEqual(b({ e: 'ada@example.com' }));
  });

  it('leaves the input alone, other fields as they were, and missing fields missing', () => {
    const input: Payment = { id: 1, card: '4111111111111111', amount: 3 };
    expect(mask<Payment>(['card', 'email'], 'redact')(input)).toEqual({ id: 1, card: '***', amount: 3 });
    expect(input.card).toBe('4111111111111111');
  });

  it.each([[[]], [['']]])('refuses no fields %j', (fields) => {
    expect(() => mask(fields as never, 'redact')).toThrow(/PRIVACY_CONFIG_INVALID/);
  });
  it('refuses an unknown method and a bad partial', () => {
    expect(() => mask<Payment>(['card'], 'scramble' as never)).toThrow(/unknown method/);
    expect(() => mask<Payment>(['card'], { partial: { keepLast: -1 } })).toThrow(/whole number/);
  });

  it('stream.mask in a job gives what mask() gives record by record (property)', async () => {
    const payment = fc.record({ id: fc.nat(), card: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 19 }), { nil: undefined }), email: fc.option(fc.emailAddress(), { nil: undefined }), amount: fc.integer() });
    await checkProperty(
      fc.asyncProperty(fc.array(payment, { maxLength: 200 }), async (payments) => {
        const records = payments.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as unknown as Payment);
        const job = new Job({ name: 'mask' });
        const { sink, out } = collecting<Payment>();
        job.source(fromCollection(records), { uid: 'in' }).mask(['card'], 'partial', { uid: 'mask-card' }).mask(['email'], { hmac: 'k' }, { uid: 'hash-email' }).sinkTo(sink, { uid: 'out' });
        await job.run();
        const batch = records.map(mask<Payment>(['card'], 'partial')).map(mask<Payment>(['email'], { hmac: 'k' }));
        expect(out.values).toEqual(batch);
        // No card of more than 8 digits survives whole.
        for (const [i, r] of out.values.entries()) if ((records[i]!.card?.length ?? 0) > 8) expect(r.card).not.toBe(records[i]!.card);
      }),
      propertyRuns(20),
    );
  });
});
