export { type RetryPolicy, type RetryOptions, type ExponentialBackoffOptions, noRetry, fixedDelay, exponentialBackoff } from './retry.js';
