/**
 * How an aggregate reads its input: the `field` argument shared by the built-in
 * aggregates. A field is a property name of the input or a function of the input; with no
 * field the input itself is the value.
 */
import { SluiceError, describeRecord } from '../../errors/index.js';

/** Property names of `T` whose values are numbers. */
export type NumericKeys<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];

/** A field of `T` giving `R`: a function of the input, or a property name. */
export type Field<T, R> = ((value: T) => R) | PropertyKey;

/**
 * The reader of a field: the function itself, a property read for a name, the identity
 * when the field is undefined. Throws INVALID_ARGUMENT for anything else.
 *
 * @example
 * fieldReader<{ n: number }>('n', 'sum')({ n: 3 }) === 3
 */
export function fieldReader<T>(field: unknown, aggregate: string): (value: T) => unknown {
  if (field === undefined) return (value) => value;
  if (typeof field === 'function') return field as (value: T) => unknown;
  if (typeof field === 'string' || typeof field === 'number' || typeof field === 'symbol') {
    const name = field;
    return (value) => (value as Record<PropertyKey, unknown>)[name];
  }
  throw new SluiceError('INVALID_ARGUMENT', `${aggregate}(): the field must be a property name or a function, got ${describeRecord(field)}`);
}

/**
 * Like {@link fieldReader}, and checks that the value read is a number: a record whose
 * field is not a number throws BAD_RECORD naming the aggregate and the record.
 *
 * @example
 * numberReader<{ n: number }>('n', 'sum')({ n: 3 }) === 3
 */
export function numberReader<T>(field: unknown, aggregate: string): (value: T) => number {
  const read = fieldReader<T>(field, aggregate);
  return (value) => {
    const n = read(value);
    if (typeof n !== 'number') {
      throw new SluiceError('BAD_RECORD', `${aggregate}(): expected a number${describeField(field)}, got ${describeRecord(n)} from record ${describeRecord(value)}`, {
        hint: 'Filter or convert such records before the aggregate, or give a field function that returns a number.',
      });
    }
    return n;
  };
}

function describeField(field: unknown): string {
  if (field === undefined) return '';
  if (typeof field === 'function') return ` from the field function${field.name ? ` '${field.name}'` : ''}`;
  return ` in field '${String(field)}'`;
}
