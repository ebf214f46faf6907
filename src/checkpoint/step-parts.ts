import { SluiceError } from '../errors/index.js';
import type { StepState } from './types.js';

/** A step's state as one subtask acknowledges it (`subtask` set when the step runs in parallel). */
export interface SubtaskStepState extends StepState {
  readonly subtask?: { readonly index: number; readonly parallelism: number } | undefined;
}

/**
 * Gathers the acknowledgements of every task into a checkpoint's steps. A step that runs
 * as one subtask keeps its state in `state` (the format of every earlier version); one
 * that runs in parallel gets `parts`, the state of each subtask by index, so that a
 * restore at another parallelism can redistribute it (keyed state by key group).
 */
export function mergeStepStates(acks: Iterable<Record<string, SubtaskStepState>>): Record<string, StepState> {
  const steps: Record<string, StepState> = {};
  for (const ack of acks) {
    for (const [uid, s] of Object.entries(ack)) {
      if (s.subtask === undefined) {
        steps[uid] = { kind: s.kind, version: s.version, state: s.state };
        continue;
      }
      const { index, parallelism } = s.subtask;
      const merged = (steps[uid] ??= { kind: s.kind, version: s.version, state: undefined, parts: new Array<unknown>(parallelism).fill(undefined) });
      if (merged.parts?.length !== parallelism) {
        throw new SluiceError('CHECKPOINT_FAILED', `step '${uid}' acknowledged with parallelism ${parallelism} and ${merged.parts?.length ?? 1}`);
      }
      merged.parts[index] = s.state;
    }
  }
  return steps;
}

/** The state of every subtask a step had when the checkpoint was taken (one part for a step that ran alone). */
export function partsOf(step: StepState): readonly unknown[] {
  return step.parts ?? [step.state];
}
