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
  /** Directory of the file storage. Default `./.sluice/checkpoints/<job name>`. */
  dir?: string;
  /** Another storage instead of the file storage. */
  storage?: CheckpointStorage;
}

export interface CheckpointConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly minPauseMs: number;
  readonly retain: number;
}

export function checkpointConfig(options: CheckpointOptions): CheckpointConfig {
  const retain = options.retain ?? 1;
  if (!Number.isInteger(retain) || retain < 1) {
    throw new SluiceError('INVALID_ARGUMENT', `checkpoints.retain must be a positive integer, got ${String(retain)}`);
  }
  return {
    intervalMs: toPositiveMillis(options.interval, 'checkpoint interval'),
    timeoutMs: toPositiveMillis(options.timeout ?? '10m', 'checkpoint timeout'),
    minPauseMs: toMillis(options.minPause ?? 0, 'checkpoint min pause'),
    retain,
  };
}
