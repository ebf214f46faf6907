import { SluiceError } from '../errors/index.js';
import { toMillis, toPositiveMillis, type Duration } from '../time/duration.js';
import type { CheckpointStorage } from './types.js';

/** How a job checkpoints. */
export interface CheckpointOptions {
  /** How often a checkpoint starts. */
  interval: Duration;
  /** A checkpoint that has not completed after this long is given up. Default 10 minutes. */
  timeout?: Duration;
  /** Least time between the end of one checkpoint and the start of the next. Default 0. */
  minPause?: Duration;
  /** Completed checkpoints kept (older ones are deleted). Default 1. */
  retain?: number;
  /**
   * Quarantined checkpoint directories kept (damaged, unfinished or superseded ones, under
   * `quarantine/`, for inspection): the most recently quarantined; older ones are deleted,
   * with a log line, so a crash loop that damages checkpoints cannot fill the disk.
   * Default {@link DEFAULT_KEEP_QUARANTINED} (5).
   */
  keepQuarantined?: number;
  /** Directory of the file storage. Default `./.sluice/checkpoints/<job name>`. */
  dir?: string;
  /**
   * Directory of the job's savepoints: a savepoint taken without a path goes to
   * `<savepointDir>/sp-<time>`, and a path given through the REST API (`sluice savepoint`,
   * `cancel`, `upgrade --path`) must lie inside it (a relative one resolves there). Default
   * `./.sluice/savepoints/<job name>`. `running.savepoint(path)` in the job's own process
   * takes any path.
   */
  savepointDir?: string;
  /** Another storage instead of the file storage. */
  storage?: CheckpointStorage;
}

/** Quarantined checkpoint directories a job keeps unless `checkpoints.keepQuarantined` says otherwise. */
export const DEFAULT_KEEP_QUARANTINED = 5;

export interface CheckpointConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly minPauseMs: number;
  readonly retain: number;
  readonly keepQuarantined: number;
}

export function checkpointConfig(options: CheckpointOptions): CheckpointConfig {
  const retain = options.retain ?? 1;
  if (!Number.isInteger(retain) || retain < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `checkpoints.retain must be a positive integer, got ${String(retain)}`);
  }
  const keepQuarantined = options.keepQuarantined ?? DEFAULT_KEEP_QUARANTINED;
  if (!Number.isInteger(keepQuarantined) || keepQuarantined < 0) {
    throw new SluiceError('INVALID_ARGUMENT', `checkpoints.keepQuarantined must be a non-negative integer, got ${String(keepQuarantined)}`);
  }
  return {
    intervalMs: toPositiveMillis(options.interval, 'checkpoint interval'),
    timeoutMs: toPositiveMillis(options.timeout ?? '10m', 'checkpoint timeout'),
    minPauseMs: toMillis(options.minPause ?? 0, 'checkpoint min pause'),
    retain,
    keepQuarantined,
  };
}
