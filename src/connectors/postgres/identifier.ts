import { SluiceError } from '../../errors/index.js';

/** A plain (optionally schema-qualified) SQL identifier, quoted; anything else is refused, never interpolated. */
export function sqlIdentifier(name: string, who: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name)) {
    throw new SluiceError('INVALID_ARGUMENT', `${who}: ${JSON.stringify(name)} is not a plain SQL identifier`);
  }
  return name
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}
