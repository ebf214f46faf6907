export { ERROR_CATALOG, type ErrorCode, type ErrorCodeInfo } from './catalog.js';
export { SluiceError, describeRecord, type SluiceErrorOptions } from './sluice-error.js';
export { REDACTED, redactSecrets } from './redact.js';
