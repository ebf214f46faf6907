import { Worker } from 'node:worker_threads';
import { SluiceError } from '../../errors/index.js';
import type { JobGraph } from '../../plan/graph.js';
import { buildPhysicalPlan } from '../../plan/physical.js';
import { attemptOf, RunOutcome, type Attempt } from '../attempt.js';
import type { RuntimeConfig } from '../config.js';
import { deadLetterSendersConsumed } from '../dead-letter-senders.js';
import type { DeadLetterQueue } from '../dead-letter-queue.js';
import { deploy } from '../deployment.js';
import { createThreadChannel, openThreadChannelReceiver, openThreadChannelSender, transferListOf } from '../exchange/thread-channel.js';
import { checkpointCoordinator, physicalGraphOf, reportingTo, type ExecuteOptions } from '../executor.js';
import type { Operator } from '../operator.js';
import type { Placement } from '../placement.js';
import { stuckError, watchSteps } from '../watchdog/watchdog.js';
import { PARALLEL_YIELD_MS, fromWire, graphFingerprint, type EndpointGrant, type FromWorker, type ToWorker, type WorkerStart } from './messages.js';

/** The number of threads a run needs: one per subtask index of its widest step. */
export function slotsOf(graph: JobGraph, config: RuntimeConfig): number {
  return Math.max(...buildPhysicalPlan(graph, config.parallelism, config.maxParallelism).chains.map((chain) => chain.parallelism));
}

/**
 * Runs a job whose steps run in parallel, on worker threads. Subtask i of every step runs
 * in slot i (Flink's slot sharing): slot 0 is this thread, slot i > 0 a worker that
 * imports the job's module to build its own instance of the job, because functions
 * cannot cross threads. So one thread never runs two subtasks of the same step, and a
 * function's closure state stays per subtask. Channels between slots cross threads
 * (`exchange/thread-channel.ts`); those inside a slot stay local queues.
 *
 * This thread keeps the job: the checkpoint coordinator (every task of every slot
 * acknowledges to it), the dead-letter queue (workers forward theirs), the outcome
 * (a failure anywhere stops every slot) and the REST server and metrics.
 */
export function executeParallel(graph: JobGraph<Operator>, config: RuntimeConfig, deadLetters: DeadLetterQueue | undefined, options: ExecuteOptions = {}): Attempt {
  const physical = physicalGraphOf(graph, config);
  const slots = Math.max(...physical.plan.chains.map((chain) => chain.parallelism));
  const workersConfig = config.workers;
  if (!workersConfig) {
    throw new SluiceError('INVALID_JOB', `job '${config.jobName}' runs steps with parallelism ${slots}, on worker threads, which need the module that defines the job`, {
      hint: "Set `module: import.meta.url` in the job options (that module's default export must be the job, or a function returning it), or run the job file with `sluice run`.",
    });
  }
  config.metrics?.beginAttempt();

  // Endpoints of channels between slots, made here and handed to the workers that use them.
  const grants: EndpointGrant[][] = Array.from({ length: slots }, () => []);
  const threadEnds: Array<{ close(): void }> = [];
  const placement: Placement = {
    yieldIntervalMs: PARALLEL_YIELD_MS,
    isLocal: (subtask) => subtask === 0,
    crossing(channel, senderHere, receiverHere) {
      const fromSlot = channel.from.subtask;
      const toSlot = channel.to.subtask;
      if (fromSlot === toSlot) return {}; // both ends in the same worker: a local queue there
      const ends = createThreadChannel(config.channelCapacity * 8, `'${channel.from.node.uid}' ${fromSlot} -> '${channel.to.node.uid}' ${toSlot}`);
      if (!senderHere) grants[fromSlot]!.push({ id: channel.id, end: 'sender', endpoint: ends.sender });
      if (!receiverHere) grants[toSlot]!.push({ id: channel.id, end: 'receiver', endpoint: ends.receiver });
      const sender = senderHere ? openThreadChannelSender(ends.sender) : undefined;
      const receiver = receiverHere ? openThreadChannelReceiver(ends.receiver) : undefined;
      if (sender) threadEnds.push(sender);
      if (receiver) threadEnds.push(receiver);
      return { sender, receiver };
    },
  };

  const outcome = new RunOutcome();
  const workers: Worker[] = [];
  const post = (w: Worker, m: ToWorker) => w.postMessage(m);
  const stopAll = () => {
    deployment.abort.abort();
    coordinator?.stop();
    for (const task of deployment.tasks) task.stop();
    for (const worker of workers) post(worker, { type: 'stop', failed: outcome.failed });
  };
  const onFailure = (error: unknown) => {
    outcome.fail(error);
    stopAll();
  };
  // Every task of every slot acknowledges to this coordinator.
  const coordinator = checkpointCoordinator(config, options, {
    taskCount: physical.nodes.length,
    injectBarrier: (id) => {
      for (const task of deployment.sourceTasks) task.injectBarrier(id);
      for (const worker of workers) post(worker, { type: 'barrier', id });
    },
    notifyComplete: (id) => {
      for (const task of deployment.tasks) task.notifyCheckpointComplete(id);
      for (const worker of workers) post(worker, { type: 'complete', id });
    },
  });
  // The watchdog watches the tasks of every slot. A stuck task in a worker thread fails the
  // attempt at once and its thread is terminated (JavaScript cannot stop a call otherwise);
  // one on this thread is reported once its call returns (nothing here runs meanwhile).
  let running = true;
  const watch = watchSteps(physical, config, (node) => node.index, (stuck, slot) => {
    if (!running) return;
    options.onStuck?.(stuck);
    onFailure(stuckError(stuck));
    if (slot > 0) void workers[slot - 1]?.terminate();
  });
  const deployment = deploy(physical, config, {
    placement,
    restore: options.restore,
    deadLetters,
    checkpointing: coordinator && reportingTo(coordinator),
    onFailure,
    stamps: watch?.words,
    diagnose: options.diagnose,
  });

  // Start the workers: each settles when it has reported 'done' (or died).
  const fingerprint = graphFingerprint(graph.nodes);
  const consumed: Promise<void>[] = [];
  const ended: Promise<void>[] = [];
  const started: Promise<void>[] = [];
  for (let slot = 1; slot < slots; slot++) {
    const start: WorkerStart = {
      slot,
      module: workersConfig.module,
      args: workersConfig.args,
      parallelism: config.parallelism,
      executionId: config.executionId,
      fingerprint,
      restore: options.restore,
      endpoints: grants[slot]!,
      checkpoints: coordinator !== undefined,
      metrics: config.metrics !== undefined,
      stamps: watch?.buffer,
      diagnose: options.diagnose && [...options.diagnose],
    };
    const worker = new Worker(workersConfig.script, {
      workerData: start,
      transferList: grants[slot]!.flatMap((g) => transferListOf(g.endpoint)),
      name: `${config.jobName} slot ${slot}`,
    });
    workers.push(worker);
    let markConsumed!: () => void;
    consumed.push(new Promise<void>((resolve) => (markConsumed = resolve)));
    let markStarted!: () => void;
    started.push(new Promise<void>((resolve) => (markStarted = resolve)));
    ended.push(
      new Promise<void>((resolve) => {
        let done = false;
        worker.on('message', (m: FromWorker) => {
          switch (m.type) {
            case 'ack':
              coordinator?.acknowledge(m.id, m.task, m.steps, m.alignmentMs);
              break;
            case 'finished':
              if (!coordinator) break;
              // A final checkpoint that cannot be written fails the attempt (its output is not committed).
              coordinator.taskFinished(m.task, m.steps).then((id) => post(worker, { type: 'final', task: m.task, id }), onFailure);
              break;
            case 'dead-letters':
              for (const letter of m.letters) deadLetters?.push(letter);
              // Credit back once the queue has room: a worker has at most a queue's worth unacknowledged.
              void (deadLetters?.writable() ?? Promise.resolve()).then(() => post(worker, { type: 'dead-letter-credit', letters: m.letters.length }));
              break;
            case 'started':
              markStarted();
              break;
            case 'consumed':
              markConsumed();
              break;
            case 'metrics':
              config.metrics?.applyRemote(m.report);
              break;
            case 'failed':
              onFailure(fromWire(m.error, slot));
              break;
            case 'done':
              done = true;
              markConsumed();
              resolve();
              break;
          }
        });
        worker.on('error', (e) => onFailure(e));
        worker.on('exit', (code) => {
          if (!done && !outcome.ended) {
            onFailure(new SluiceError('WORKER_FAILED', `worker thread ${slot} of job '${config.jobName}' exited (code ${code}) before its subtasks ended`));
          }
          markStarted();
          markConsumed();
          resolve();
        });
      }),
    );
  }

  watch?.start();

  // This slot's subtasks start when every worker has built its own (or one has failed):
  // started earlier, they would read input that waits in channels for the workers' module
  // imports (about half a second), and V8 would then see the records survive and allocate
  // the source's records in the old generation for the rest of the run (pretenuring),
  // which made this thread half as fast. Checkpoints start then too.
  const runs = Promise.all(started).then(() => {
    coordinator?.start();
    return Promise.allSettled(deployment.tasks.map((task) => task.run()));
  });
  if (deadLetters) {
    void Promise.all([deadLetterSendersConsumed(physical, deployment.tasks, deadLetters), ...consumed]).then(() => deadLetters.end());
  }

  const settled = Promise.allSettled([runs, ...ended]).finally(() => {
    running = false;
    watch?.stop();
  });
  return attemptOf(deployment, coordinator, outcome, settled, stopAll, async () => {
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const end of threadEnds) end.close();
  });
}
