import { SluiceError, describeRecord } from '../errors/index.js';
import type { StepMetrics } from '../observe/step-metrics.js';
import type { StepNode } from '../plan/graph.js';
import { hasTimestamp } from './batch.js';
import type { DeadLetterOutput } from './dead-letter-queue.js';

/**
 * What a step does with a record it cannot handle (a user function threw on it, or a
 * source could not decode it): under the `fail` policy, or without a dead-letter output,
 * it throws an error that names the step and shows the record; under `dead-letter` it
 * sends the record there. Either way the step's error counter counts it.
 */
export interface StepErrors {
  readonly step: StepNode;
  readonly policy: 'fail' | 'dead-letter';
  readonly deadLetters: DeadLetterOutput | undefined;
  readonly metrics: StepMetrics | undefined;
}

/**
 * A user function's throw on `record` (`what` names the function: 'map function', 'onTimer', …).
 * A state backend that could not read or write (a full disk: STORAGE_FULL; STATE_IO_FAILED)
 * is no fault of the record, and the backend is broken: never a dead letter, the attempt
 * fails and restarts from its checkpoint (`test/state/disk/storage-full.test.ts`).
 */
export function userError(errors: StepErrors, error: unknown, record: unknown, timestamp: number, what: string): void {
  const { step, metrics, deadLetters } = errors;
  if (error instanceof SluiceError && (error.code === 'STORAGE_FULL' || error.code === 'STATE_IO_FAILED')) throw withStep(error, step);
  const e = asStepError(error, step, record, what);
  if (metrics) metrics.errors++;
  if (errors.policy === 'fail' || !deadLetters) throw e;
  if (metrics) metrics.deadLettered++;
  deadLetters.push({
    step: step.uid,
    record,
    error: { code: e.code, message: e.message.split('\n')[0]! },
    timestamp: hasTimestamp(timestamp) ? timestamp : undefined,
  });
}

/**
 * A record its step emitted into a channel that cannot carry it (`RECORD_NOT_TRANSFERABLE`:
 * it cannot cross to another thread): as a user function's throw, the job fails with the
 * step named, or the record is a dead letter.
 */
export function refusedRecord(errors: StepErrors, error: SluiceError, record: unknown, timestamp: number): void {
  userError(errors, withStep(error, errors.step), record, timestamp, 'exchange');
}

/** `error` with the step named in its message and `step` field (as it is, when it names one already). */
function withStep(error: SluiceError, step: StepNode): SluiceError {
  if (error.step !== undefined) return error;
  return new SluiceError(error.code, `step '${step.uid}' (${step.kind}): ${firstLine(error)}`, { step: step.uid, detail: error.detail, hint: error.hint, cause: error.cause });
}

/** A SluiceError's message without its code, detail and hint. */
function firstLine(e: SluiceError): string {
  return e.message.split('\n')[0]!.replace(`[${e.code}] `, '');
}

/** Input a source could not decode, at `position` of its medium. */
export function badRecord(errors: StepErrors, raw: string | Uint8Array, error: unknown, position: string): void {
  const { step, metrics, deadLetters } = errors;
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const reason = error instanceof Error ? error.message : String(error);
  const e = new SluiceError('BAD_RECORD', `step '${step.uid}' (${step.source?.kind} source): bad input at ${position}: ${reason}`, {
    step: step.uid,
    detail: `input: ${describeRecord(text)}`,
    cause: error,
  });
  if (metrics) metrics.errors++;
  if (errors.policy === 'fail' || !deadLetters) throw e;
  if (metrics) metrics.deadLettered++;
  deadLetters.push({ step: step.uid, record: text, error: { code: e.code, message: e.message.split('\n')[0]! }, position });
}

/** A user function's throw as the error a reader needs: which step, which function, which record. */
function asStepError(error: unknown, step: StepNode, record: unknown, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : `the value ${describeRecord(error, 80)}`;
  return new SluiceError(
    'USER_FUNCTION_FAILED',
    `step '${step.uid}' (${step.kind}): the ${what} threw ${reason} on record ${describeRecord(record)}`,
    { step: step.uid, cause: error },
  );
}
