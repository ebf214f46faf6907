import { ERROR_CATALOG, type ErrorCode } from './catalog.js';

/** What a {@link SluiceError} takes besides its code and message. */
export interface SluiceErrorOptions {
  /** More about what happened (the record, the underlying error message). */
  detail?: string;
  /** Overrides the catalog's hint where the situation allows a sharper one. */
  hint?: string;
  /** The uid (or name) of the step where the error happened. */
  step?: string;
  /** The error that led to this one; kept as the standard `Error.cause`. */
  cause?: unknown;
}

/**
 * The one error class of Sluice. The code comes from the catalog (`errors/catalog.ts`),
 * which also gives the domain, retry advice and default hint.
 *
 * @example
 * const e = new SluiceError('MISSING_UID', "step 'count' has no uid");
 * e.code === 'MISSING_UID' && e.domain === 'user';
 */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly domain: 'user' | 'external' | 'internal';
  readonly retry: 'none' | 'backoff';
  readonly detail: string | undefined;
  readonly hint: string;
  readonly step: string | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    const info = ERROR_CATALOG[code];
    const hint = options.hint ?? info.hint;
    super(
      [`[${code}] ${message}`, options.detail ? `  detail: ${options.detail}` : '', `  hint: ${hint}`]
        .filter(Boolean)
        .join('\n'),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SluiceError';
    this.code = code;
    this.domain = info.domain;
    this.retry = info.retry;
    this.detail = options.detail;
    this.hint = hint;
    this.step = options.step;
  }
}

/**
 * Renders a record for an error message: JSON where possible, cut to `max` characters.
 *
 * @example
 * describeRecord({ user: 'a', n: 1n }); // '{"user":"a","n":"1n"}'
 */
export function describeRecord(record: unknown, max = 200): string {
  let text: string;
  try {
    text =
      typeof record === 'bigint'
        ? `${record}n`
        : (JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(record));
  } catch {
    text = String(record);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
