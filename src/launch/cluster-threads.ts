import { Worker } from 'node:worker_threads';
import type { ClusterOptions } from '../cluster/cluster-options.js';
import type { ClusterFigures, ClusterFiguresSource, PartitionLag } from '../observe/cluster-figures.js';
import type { LogLevel } from '../observe/job-log.js';
import type { JobResult } from '../runtime/attempt.js';
import { fromWire, type WireError } from '../runtime/parallel/messages.js';
import type { Clock } from '../time/clock.js';

/** What a stream thread starts with (its `workerData`). */
export interface ThreadStart {
  readonly module: string;
  readonly args: readonly string[];
  /** The cluster options of this thread's member: its own `member` name, if the process has one. */
  readonly cluster: ClusterOptions;
  readonly logLevel: LogLevel;
}

/** From the main thread to a stream thread. */
export type ToThread =
  | { readonly type: 'cancel' }
  | { readonly type: 'drain' }
  | { readonly type: 'stop' }
  | { readonly type: 'figures' }
  | { readonly type: 'lag'; readonly id: number; readonly timeoutMs: number };

/** From a stream thread to the main thread. */
export type FromThread =
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'figures'; readonly figures: ClusterFigures | undefined }
  | { readonly type: 'lag'; readonly id: number; readonly lag: readonly PartitionLag[] }
  | { readonly type: 'ended'; readonly status: JobResult['status'] }
  | { readonly type: 'failed'; readonly error: WireError };

/** The script stream threads start with: compiled in the installed package; from the sources, a loader first. */
const THREAD_SCRIPT = new URL(import.meta.url.endsWith('.ts') ? './cluster-thread.mjs' : './cluster-thread.js', import.meta.url);

/** How often the main thread asks its stream threads for their figures (figures are read synchronously, so they are kept). */
const FIGURES_EVERY_MS = 1000;

/** How long a thread whose job ended may take to leave the group and close its clients before it is terminated. */
const EXIT_GRACE_MS = 15_000;

/** The name of stream thread `i` (1-based; the main thread is 0 and keeps the member's own name). */
export function threadMemberName(member: string | undefined, i: number): string | undefined {
  return member === undefined ? undefined : `${member}-t${i}`;
}

interface Thread {
  readonly worker: Worker;
  figures: ClusterFigures | undefined;
  /** Settles when the thread's job ended: its status, or its failure. */
  readonly ended: Promise<JobResult>;
  readonly exited: Promise<void>;
}

/**
 * The extra stream threads of a cluster member run with `--parallelism N`: N − 1 worker
 * threads beside the main thread, each running the job as a member of the cluster's group
 * with its own consumer and transactional producer, exactly as Kafka Streams runs
 * `num.stream.threads` (each stream thread is a group member; tasks are spread over all
 * threads of all processes by the group's assignment). So a member uses N cores, and the
 * exactly-once protocol stays per consumer–producer pair, unchanged.
 *
 * The main thread relays control (cancel, drain, the graceful stop) to every thread, ends
 * when all have ended, and fails, cancelling the others, when one fails. Its `/metrics` and
 * REST API show the process's figures over all threads ({@link figuresWith}).
 */
export class ClusterThreads {
  private readonly threads: Thread[] = [];
  private asked = 0;
  private readonly answers = new Map<number, (lag: readonly PartitionLag[]) => void>();
  private cancelFigures: () => void = () => {};
  private over = false;

  constructor(
    count: number,
    start: Omit<ThreadStart, 'cluster'> & { readonly cluster: ClusterOptions },
    private readonly clock: Clock,
    writeLog: (line: string) => void,
  ) {
    for (let i = 1; i <= count; i++) {
      const member = threadMemberName(start.cluster.member, i);
      const { member: _, ...rest } = start.cluster;
      const data: ThreadStart = { ...start, cluster: member === undefined ? rest : { ...rest, member } };
      const worker = new Worker(THREAD_SCRIPT, { workerData: data });
      let settle: { resolve: (r: JobResult) => void; reject: (e: unknown) => void } | undefined;
      const ended = new Promise<JobResult>((resolve, reject) => (settle = { resolve, reject }));
      const thread: Thread = { worker, figures: undefined, ended, exited: new Promise((resolve) => worker.once('exit', () => resolve())) };
      worker.on('message', (m: FromThread) => {
        // Each line says which thread wrote it (its member name, else its number).
        if (m.type === 'log') writeLog(m.line.startsWith('{') ? `{"thread":${JSON.stringify(member ?? i)},${m.line.slice(1)}` : m.line);
        else if (m.type === 'figures') thread.figures = m.figures;
        else if (m.type === 'lag') this.answers.get(m.id)?.(m.lag);
        else if (m.type === 'ended') settle!.resolve({ status: m.status });
        else settle!.reject(fromWire(m.error, i));
      });
      worker.once('error', (e) => settle!.reject(e));
      worker.once('exit', (code) => settle!.reject(new Error(`stream thread ${i} of the cluster member exited (code ${code}) before its job ended`)));
      this.threads.push(thread);
    }
    this.askFigures();
  }

  /**
   * Settles when `main` (the main thread's run) and every stream thread have ended, with
   * main's result; when one fails, the others are cancelled and it rejects with that failure.
   */
  async alongside(main: { readonly done: Promise<JobResult>; cancel(): void }): Promise<JobResult> {
    const failOthers = (e: unknown): never => {
      main.cancel();
      this.cancel();
      throw e;
    };
    try {
      const [result] = await Promise.all([main.done.catch(failOthers), ...this.threads.map((t) => t.ended.catch(failOthers))]);
      return result;
    } finally {
      this.over = true;
      this.cancelFigures();
      await this.exited();
    }
  }

  cancel(): void {
    this.post({ type: 'cancel' });
  }

  drain(): void {
    this.post({ type: 'drain' });
  }

  stop(): void {
    this.post({ type: 'stop' });
  }

  /** The process's figures: the main thread's (`main`) and the threads' latest, added up. */
  figuresWith(main: ClusterFiguresSource): ClusterFiguresSource {
    return {
      cluster: main.cluster,
      figures: () => processFigures([main.figures(), ...this.threads.map((t) => t.figures)]),
      lag: async (timeoutMs) => (await Promise.all([main.lag(timeoutMs), ...this.threads.map((t) => this.lagOf(t, timeoutMs))])).flat(),
    };
  }

  private lagOf(thread: Thread, timeoutMs: number): Promise<readonly PartitionLag[]> {
    if (this.over) return Promise.resolve([]);
    const id = ++this.asked;
    return new Promise<readonly PartitionLag[]>((resolve) => {
      // The thread answers within its own timeout; this one only covers a thread that ends meanwhile.
      const cancel = this.clock.schedule(this.clock.now() + timeoutMs + 500, () => done([]));
      const done = (lag: readonly PartitionLag[]) => {
        cancel();
        this.answers.delete(id);
        resolve(lag);
      };
      this.answers.set(id, done);
      thread.worker.postMessage({ type: 'lag', id, timeoutMs } satisfies ToThread);
    });
  }

  private askFigures(): void {
    if (this.over) return;
    this.post({ type: 'figures' });
    this.cancelFigures = this.clock.schedule(this.clock.now() + FIGURES_EVERY_MS, () => this.askFigures());
  }

  private post(m: ToThread): void {
    for (const t of this.threads) t.worker.postMessage(m);
  }

  /** Waits for every thread to exit, terminating those that outstay {@link EXIT_GRACE_MS}. */
  private async exited(): Promise<void> {
    await Promise.all(
      this.threads.map(async (t) => {
        let cancel = () => {};
        const late = new Promise<'late'>((resolve) => (cancel = this.clock.schedule(this.clock.now() + EXIT_GRACE_MS, () => resolve('late'))));
        if ((await Promise.race([t.exited, late])) === 'late') await t.worker.terminate();
        cancel();
      }),
    );
  }
}

/** The figures of a process's members (its threads), as one member's: tasks of all, counts added up; undefined until one has joined. */
export function processFigures(all: ReadonlyArray<ClusterFigures | undefined>): ClusterFigures | undefined {
  const joined = all.filter((f): f is ClusterFigures => f !== undefined);
  if (joined.length === 0) return undefined;
  const ms = joined.flatMap((f) => (f.lastRebalanceMs === undefined ? [] : [f.lastRebalanceMs]));
  const sum = (pick: (r: ClusterFigures['restored']) => number) => joined.reduce((n, f) => n + pick(f.restored), 0);
  return {
    member: joined[0]!.member,
    threads: joined.map((f) => f.member),
    tasks: joined.flatMap((f) => f.tasks).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)),
    rebalances: joined.reduce((n, f) => n + f.rebalances, 0),
    lastRebalanceMs: ms.length === 0 ? undefined : Math.max(...ms),
    restoring: joined.some((f) => f.restoring),
    restored: { restores: sum((r) => r.restores), tasks: sum((r) => r.tasks), local: sum((r) => r.local), entries: sum((r) => r.entries), bytes: sum((r) => r.bytes), ms: sum((r) => r.ms) },
    standbys: [...new Set(joined.flatMap((f) => f.standbys))].sort((a, b) => a - b),
  };
}
