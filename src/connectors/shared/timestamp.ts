import { SluiceError, describeRecord } from '../../errors/index.js';

/**
 * Checks what a user's timestamp function returned: a finite number of epoch
 * milliseconds. Anything else fails with USER_FUNCTION_FAILED naming the function and
 * the record, because a NaN or string timestamp would silently break event time.
 */
export function checkTimestamp(ts: unknown, fn: string, record: unknown, step?: string): number {
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts;
  throw new SluiceError(
    'USER_FUNCTION_FAILED',
    `${fn} returned ${typeof ts === 'number' ? String(ts) : describeRecord(ts)} for record ${describeRecord(record)}; a timestamp must be a finite number of epoch milliseconds`,
    step === undefined ? {} : { step },
  );
}

/** Calls a user's timestamp function, turning a throw into USER_FUNCTION_FAILED with the record. */
export function callTimestamp<A extends unknown[]>(
  f: (...args: A) => number,
  args: A,
  fn: string,
  record: unknown,
  step?: string,
): number {
  let ts: unknown;
  try {
    ts = f(...args);
  } catch (error) {
    throw timestampThrew(error, fn, record, step);
  }
  return checkTimestamp(ts, fn, record, step);
}

/** The error for a timestamp function `fn` that threw `error` on `record`. */
export function timestampThrew(error: unknown, fn: string, record: unknown, step?: string): SluiceError {
  return new SluiceError('USER_FUNCTION_FAILED', `${fn} threw for record ${describeRecord(record)}`, {
    detail: error instanceof Error ? error.message : String(error),
    cause: error,
    ...(step === undefined ? {} : { step }),
  });
}
