/** Options every step takes. */
export interface StepOptions {
  /**
   * A stable, unique id. It names the step's state in checkpoints, its metrics and its
   * errors. Optional for stateless steps (a name is made up), required for stateful ones.
   */
  uid?: string;
  /** What to do when the step's function throws: fail the job (default: the job's policy) or dead-letter the record. */
  onError?: 'fail' | 'dead-letter';
  /** How many subtasks run this step. Default: the job's parallelism. */
  parallelism?: number;
}

/** Options of a step that keeps state: the uid is required. */
export interface StatefulStepOptions extends StepOptions {
  uid: string;
}
