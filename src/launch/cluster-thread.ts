import { parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../runtime/parallel/messages.js';
import { loadJobModule } from './job-module.js';
import type { ThreadStart, ToThread, FromThread } from './cluster-threads.js';

/**
 * One stream thread of a cluster member (`--cluster` with `--parallelism N`): imports the
 * job's module, and runs the job as a member of the cluster under its own name, with its
 * own consumer and transactional producer (as each of Kafka Streams' stream threads is a
 * member of the application's group). The main thread relays control (cancel, graceful
 * stop) and collects its figures (`cluster-threads.ts`).
 */
const start = workerData as ThreadStart;
const port = parentPort!;
const send = (m: FromThread) => port.postMessage(m);
const early: ToThread[] = [];
const buffer = (m: ToThread) => early.push(m);
port.on('message', buffer);
try {
  const job = await loadJobModule(start.module, [...start.args]);
  const started = job.start({
    cluster: start.cluster,
    parallelism: 1,
    moduleArgs: start.args,
    observe: { server: false, logLevel: start.logLevel, logDestination: { write: (line) => send({ type: 'log', line }) } },
  });
  const figures = started.monitor.metrics.cluster;
  const handle = (m: ToThread): void => {
    if (m.type === 'cancel') started.cancel();
    else if (m.type === 'drain') started.drain();
    else if (m.type === 'stop') void started.stop().catch((e: unknown) => send({ type: 'failed', error: toWire(e) }));
    else if (m.type === 'figures') send({ type: 'figures', figures: figures?.figures() });
    else if (m.type === 'lag') void (figures ? figures.lag(m.timeoutMs) : Promise.resolve([])).then((lag) => send({ type: 'lag', id: m.id, lag }));
  };
  port.off('message', buffer);
  port.on('message', handle);
  for (const m of early.splice(0)) handle(m);
  const result = await started.done.finally(() => port.off('message', handle));
  send({ type: 'ended', status: result.status });
} catch (e) {
  port.off('message', buffer);
  send({ type: 'failed', error: toWire(e) });
}
// The thread ends once its member has left the group and closed its clients (the main thread waits, bounded).
