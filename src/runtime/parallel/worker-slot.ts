import type { MessagePort } from 'node:worker_threads';
import type { DeadLetter } from '../dead-letter-queue.js';
import { SluiceError } from '../../errors/index.js';
import type { JobGraph } from '../../plan/graph.js';
import type { DeadLetterOutput } from '../dead-letter-queue.js';
import type { RuntimeConfig } from '../config.js';
import { deadLetterSendersConsumed } from '../dead-letter-senders.js';
import { deploy } from '../deployment.js';
import { releaseStateBackends } from '../attempt.js';
import { stampWords } from '../watchdog/step-stamps.js';
import { openThreadChannelReceiver, openThreadChannelSender } from '../exchange/thread-channel.js';
import { physicalGraphOf } from '../executor.js';
import type { Operator } from '../operator.js';
import type { Placement } from '../placement.js';
import type { TaskCheckpointing } from '../task.js';
import { PARALLEL_YIELD_MS, cloneableLetters, graphFingerprint, toWire, type FromWorker, type ToWorker, type WorkerStart } from './messages.js';

/**
 * The worker side of a parallel run (see `parallel-run.ts`): builds the subtasks of slot
 * `start.slot` from this thread's own instance of the job, runs them, and speaks for
 * them to the main thread: checkpoint acknowledgements and final states go up, barriers,
 * completions and stop come down. Resolves when every subtask here has ended.
 */
export async function runWorkerSlot(
  graph: JobGraph<Operator>,
  config: RuntimeConfig,
  deadLetterSource: DeadLetterOutput['source'] | undefined,
  start: WorkerStart,
  port: MessagePort,
  /** Messages that came before the slot was built (a stop during start-up). */
  early: readonly ToWorker[],
): Promise<void> {
  const send = (m: FromWorker) => port.postMessage(m);
  if (graphFingerprint(graph.nodes) !== start.fingerprint) {
    throw new SluiceError('WORKER_JOB_MISMATCH', `worker thread ${start.slot} built job '${config.jobName}' from ${start.module} with other steps than the main thread`);
  }
  // The endpoints the main thread made for this slot, by channel id.
  const senderEndpoints: unknown[] = [];
  const receiverEndpoints: unknown[] = [];
  for (const grant of start.endpoints) (grant.end === 'sender' ? senderEndpoints : receiverEndpoints)[grant.id] = grant.endpoint;
  const threadEnds: Array<{ close(): void }> = [];
  const placement: Placement = {
    yieldIntervalMs: PARALLEL_YIELD_MS,
    isLocal: (subtask) => subtask === start.slot,
    crossing(channel, senderHere, receiverHere) {
      const sender = senderHere ? openThreadChannelSender(senderEndpoints[channel.id]) : undefined;
      const receiver = receiverHere ? openThreadChannelReceiver(receiverEndpoints[channel.id]) : undefined;
      if (sender) threadEnds.push(sender);
      if (receiver) threadEnds.push(receiver);
      return { sender, receiver };
    },
  };
  // Dead letters go to the main thread's queue, in small batches per turn of the event loop,
  // with credit: at most a queue's worth (the main thread's capacity) unacknowledged, then
  // this slot's tasks wait as they would for a full queue of their own.
  let letters: DeadLetter[] = [];
  const letterCredit = new LetterCredit(config.batchSize * config.channelCapacity);
  const deadLetters: DeadLetterOutput | undefined = deadLetterSource && {
    source: deadLetterSource,
    get isFull() {
      return letterCredit.isFull;
    },
    writable: () => letterCredit.writable(),
    push(letter) {
      if (letters.length === 0) {
        queueMicrotask(() => {
          const batch = letters;
          letters = [];
          try {
            send({ type: 'dead-letters', letters: batch });
          } catch {
            // A record structured clone refuses (DataCloneError), outside any task: send a
            // copy that can cross rather than lose the letters to an uncaught exception.
            send({ type: 'dead-letters', letters: cloneableLetters(batch) });
          }
        });
      }
      letters.push(letter);
      letterCredit.sent(1);
    },
  };

  // Tasks here acknowledge checkpoints to the main thread's coordinator.
  const finals = new Map<string, (id: number | undefined) => void>();
  const checkpointing: TaskCheckpointing | undefined = start.checkpoints
    ? {
        acknowledge: (id, task, steps, alignmentMs) => send({ type: 'ack', id, task, steps, alignmentMs }),
        finished: (task, steps) =>
          new Promise((resolve) => {
            finals.set(task, resolve);
            send({ type: 'finished', task, steps });
          }),
      }
    : undefined;

  let failed = false;
  let attemptFailed = false; // told so by the main thread (another thread failed)
  const physical = physicalGraphOf(graph, config);
  const deployment = deploy(physical, config, {
    placement,
    restore: start.restore,
    deadLetters,
    checkpointing,
    stamps: start.stamps && stampWords(start.stamps, physical.nodes.length),
    diagnose: start.diagnose && new Set(start.diagnose),
    onFailure: (error) => {
      if (!failed) send({ type: 'failed', error: toWire(error) });
      failed = true;
      deployment.abort.abort();
      for (const task of deployment.tasks) task.stop();
    },
  });
  const sources = deployment.sourceTasks;
  const handle = (m: ToWorker) => {
    switch (m.type) {
      case 'barrier':
        for (const task of sources) task.injectBarrier(m.id);
        break;
      case 'complete':
        for (const task of deployment.tasks) task.notifyCheckpointComplete(m.id);
        break;
      case 'final':
        finals.get(m.task)?.(m.id);
        finals.delete(m.task);
        break;
      case 'dead-letter-credit':
        letterCredit.granted(m.letters);
        break;
      case 'stop':
        attemptFailed ||= m.failed === true;
        letterCredit.release();
        deployment.abort.abort();
        for (const task of deployment.tasks) task.stop();
        for (const resolve of finals.values()) resolve(undefined);
        finals.clear();
        break;
    }
  };
  port.on('message', handle);
  for (const m of early) handle(m);

  // Counters go to the main thread once a second and at the end.
  const metrics = config.metrics;
  const report = () => metrics && send({ type: 'metrics', report: metrics.report() });
  const reporting = metrics ? setInterval(report, 1000) : undefined;
  reporting?.unref();

  send({ type: 'started' });
  const runs = deployment.tasks.map((task) => task.run());
  const senders = deadLetters ? deadLetterSendersConsumed(physical, deployment.tasks, deadLetters) : Promise.all(deployment.tasks.map((task) => task.consumed));
  // After the dead letters still gathered in this turn of the event loop.
  void senders.then(() => setImmediate(() => send({ type: 'consumed' })));
  await Promise.allSettled(runs);
  if (failed || attemptFailed) await releaseStateBackends(deployment.stateBackends.values());
  clearInterval(reporting);
  report();
  for (const sender of deployment.senders) sender.release();
  port.off('message', handle);
  for (const end of threadEnds) end.close();
}

/** Dead letters sent to the main thread and not yet acknowledged, against a capacity. */
class LetterCredit {
  private outstanding = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly capacity: number) {}

  get isFull(): boolean {
    return this.outstanding >= this.capacity;
  }
  sent(n: number): void {
    this.outstanding += n;
  }
  granted(n: number): void {
    this.outstanding -= n;
    if (!this.isFull) this.release();
  }
  writable(): Promise<void> {
    return this.isFull ? new Promise((resolve) => this.waiting.push(resolve)) : Promise.resolve();
  }
  /** Wakes every waiting task (credit came, or the slot is stopping). */
  release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const wake of w) wake();
  }
}
