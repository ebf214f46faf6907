import type { MessagePort } from 'node:worker_threads';
import type { DeadLetter } from '../dead-letter-queue.js';
import { SluiceError } from '../../errors/index.js';
import type { JobGraph } from '../../plan/graph.js';
import type { DeadLetterOutput } from '../dead-letter-queue.js';
import type { Operator } from '../operator.js';
import { openThreadChannelReceiver, openThreadChannelSender } from '../exchange/thread-channel.js';
import { buildTasks, deadLetterSendersConsumed, type Placement, type RuntimeConfig } from '../executor.js';
import type { TaskCheckpointing } from '../task.js';
import { PARALLEL_YIELD_MS, graphFingerprint, toWire, type FromWorker, type ToWorker, type WorkerStart } from './messages.js';

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
  const endpoints = new Map(start.endpoints.map((g) => [`${g.id}/${g.end}`, g.endpoint]));
  const threadEnds: Array<{ close(): void }> = [];
  const placement: Placement = {
    yieldIntervalMs: PARALLEL_YIELD_MS,
    isLocal: (subtask) => subtask === start.slot,
    crossing(spec, producerHere, consumerHere) {
      const out = producerHere ? openThreadChannelSender(endpoints.get(`${spec.id}/sender`)) : undefined;
      const inn = consumerHere ? openThreadChannelReceiver(endpoints.get(`${spec.id}/receiver`)) : undefined;
      if (out) threadEnds.push(out);
      if (inn) threadEnds.push(inn);
      return { out, in: inn };
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
          send({ type: 'dead-letters', letters });
          letters = [];
        });
      }
      letters.push(letter);
      letterCredit.sent(1);
    },
  };

  let failed = false;
  const built = buildTasks(graph, config, deadLetters, start.restore, placement, (error) => {
    if (!failed) send({ type: 'failed', error: toWire(error) });
    failed = true;
    built.abort.abort();
    for (const t of built.tasks) t.stop();
  });

  const finals = new Map<string, (id: number | undefined) => void>();
  if (start.checkpoints) {
    const checkpointing: TaskCheckpointing = {
      acknowledge: (id, task, steps, alignmentMs) => send({ type: 'ack', id, task, steps, alignmentMs }),
      finished: (task, steps) =>
        new Promise((resolve) => {
          finals.set(task, resolve);
          send({ type: 'finished', task, steps });
        }),
    };
    for (const t of built.tasks) t.checkpointing = checkpointing;
  }
  const sources = built.sourceTasks;
  const handle = (m: ToWorker) => {
    switch (m.type) {
      case 'barrier':
        for (const t of sources) t.injectBarrier(m.id);
        break;
      case 'complete':
        for (const t of built.tasks) t.notifyCheckpointComplete(m.id);
        break;
      case 'final':
        finals.get(m.task)?.(m.id);
        finals.delete(m.task);
        break;
      case 'dead-letter-credit':
        letterCredit.granted(m.letters);
        break;
      case 'stop':
        letterCredit.release();
        built.abort.abort();
        for (const t of built.tasks) t.stop();
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
  const runs = built.tasks.map((t) => t.run());
  const senders = deadLetters ? deadLetterSendersConsumed(graph, built.plan, built.tasks, deadLetters) : Promise.all(built.tasks.map((t) => t.consumed));
  // After the dead letters still gathered in this turn of the event loop.
  void senders.then(() => setImmediate(() => send({ type: 'consumed' })));
  await Promise.allSettled(runs);
  clearInterval(reporting);
  report();
  for (const o of built.outs) o.release();
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
