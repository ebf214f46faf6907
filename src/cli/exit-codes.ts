/**
 * Exit codes of the `sluice` command (documented in the README).
 * - 0: the job finished, or was cancelled by Ctrl-C / SIGTERM.
 * - 1: the job failed (the error, its code and hint are printed).
 * - 2: the command line was wrong (unknown command or option, missing argument).
 * - 3: the job file could not be loaded, or does not export a Job.
 * - 4: no running job answered (`list`, `status`, `cancel`, `savepoint`, `logs`, `upgrade`), or it refused the request;
 *   `cluster status`: no such cluster (CLUSTER_NOT_FOUND), or its brokers did not answer (BROKER_UNAVAILABLE).
 * - 5: `upgrade` rolled back: the new version failed and the previous one runs again from the savepoint.
 * - 75: a step stayed in one call longer than `stuckAfter` on the main thread, with
 *   `onStuck: 'exit'` (the watchdog thread ends the process: `runtime/watchdog/`).
 */
export const EXIT = {
  OK: 0,
  JOB_FAILED: 1,
  USAGE: 2,
  BAD_JOB_FILE: 3,
  NO_JOB: 4,
  ROLLED_BACK: 5,
  STEP_STUCK: 75,
} as const;
