export { type RetryPolicy, type RetryOptions, type ExponentialBackoffOptions, noRetry, fixedDelay, exponentialBackoff } from './retry.js';
export { dependency, Dependency, type DependencyOptions, type BreakerOptions, type BulkheadOptions, type BreakerState, type DependencyStats } from './dependency.js';
export { registeredDependencies } from './registry.js';
