import { parentPort, workerData } from 'node:worker_threads';
import { SluiceError } from '../errors/index.js';
import { toWire, type ToWorker, type WorkerStart } from '../runtime/parallel/messages.js';
import { runWorkerSlot } from '../runtime/parallel/worker-slot.js';
import { SystemClock } from '../time/clock.js';
import { JobMetrics } from '../observe/job-metrics.js';
import { loadJobModule } from './job-module.js';

/**
 * A worker thread of a parallel run: imports the job's module to build this thread's
 * own instance of the job, then runs the subtasks of its slot (`runtime/parallel/`).
 */
const start = workerData as WorkerStart;
const port = parentPort!;
const early: ToWorker[] = [];
const buffer = (m: ToWorker) => early.push(m);
port.on('message', buffer);
try {
  const job = await loadJobModule(start.module, [...start.args]);
  port.off('message', buffer);
  const clock = new SystemClock();
  const metrics = start.metrics ? new JobMetrics(job.name, clock) : undefined;
  await runWorkerSlot(job.graph, job.runtimeConfig(clock, start.parallelism, metrics, undefined, start.executionId), job.deadLetterQueueOf?.source, start, port, early);
  port.postMessage({ type: 'done' });
} catch (e) {
  const error =
    e instanceof SluiceError ? e : new SluiceError('WORKER_FAILED', `worker thread ${start.slot} could not run: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  port.postMessage({ type: 'failed', error: toWire(error) });
  port.postMessage({ type: 'done' });
}
