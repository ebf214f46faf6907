import { SluiceError } from '../errors/index.js';

/** The fields of a record type that hold strings (or anything: a value is turned into a string before masking). */
export type FieldsOf<T> = readonly (keyof T & string)[];

/** Checks an operator's field list once, when it is built. */
export function checkFields(fields: readonly string[], operator: string): void {
  if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === 'string' && f !== '')) {
    throw new SluiceError('PRIVACY_CONFIG_INVALID', `${operator} needs a non-empty list of field names, got ${JSON.stringify(fields)}`);
  }
}

/** A copy of `record` with `fields` replaced by `replace(value, field)`; absent (undefined or null) fields stay as they are. */
export function replaceFields<T extends object>(record: T, fields: readonly string[], replace: (value: unknown, field: string) => unknown): T {
  const out = { ...record } as Record<string, unknown>;
  for (const f of fields) {
    const v = out[f];
    if (v !== undefined && v !== null) out[f] = replace(v, f);
  }
  return out as T;
}
