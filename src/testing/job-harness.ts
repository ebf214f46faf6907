import type { DataStream } from '../api/data-stream.js';
import { Job, type JobOptions } from '../launch/job.js';
import type { RunningJob } from '../runtime/supervisor.js';
import type { Key, StateDescriptor, StateOf } from '../state/types.js';
import { ManualClock } from '../time/clock.js';
import { TestInput } from './test-input.js';
import { TestOutput } from './test-output.js';

/** A {@link TestInput} that already feeds a stream of the harness's job. */
export class HarnessInput<T> extends TestInput<T> {
  stream!: DataStream<T>;
}

/**
 * Runs a whole job under a manual clock: build it from harness inputs, capture outputs,
 * start it, then push records and watermarks, move processing time, and `settle()` to let
 * the pipeline take everything in before asserting.
 *
 * @example
 * const h = new JobHarness();
 * const clicks = h.input<Click>('clicks');
 * const counts = h.output(clicks.stream.keyBy((c) => c.user).process(countPerSecond, { uid: 'count' }));
 * h.start();
 * clicks.push({ user: 'a' }, 1000).pushWatermark(2000);
 * await h.settle();
 * expect(counts.values).toEqual([{ user: 'a', count: 1 }]);
 * await h.finish();
 */
export class JobHarness {
  readonly clock: ManualClock;
  readonly job: Job;
  private readonly inputs: TestInput<unknown>[] = [];
  private running: RunningJob | undefined;
  private failure: unknown;
  private finished = false;

  constructor(options: Omit<JobOptions, 'clock'> & { startTime?: number } = {}) {
    const { startTime, ...jobOptions } = options;
    this.clock = new ManualClock(startTime ?? 0);
    this.job = new Job({ name: 'test', ...jobOptions, clock: this.clock });
  }

  /** A hand-driven input; its `stream` is the job's stream of what you push. */
  input<T>(uid: string): HarnessInput<T> {
    const input = new HarnessInput<T>();
    input.stream = this.job.source(input.source, { uid });
    this.inputs.push(input as TestInput<unknown>);
    return input;
  }

  /** Captures a stream's records. */
  output<T>(stream: DataStream<T>): TestOutput<T> {
    const out = new TestOutput<T>();
    stream.sinkTo(out.sink);
    return out;
  }

  /** Starts the job. */
  start(): this {
    this.running = this.job.start();
    this.running.done.then(
      () => {
        this.finished = true;
      },
      (e: unknown) => {
        this.failure = e;
        this.finished = true;
      },
    );
    return this;
  }

  /**
   * Lets the job take in everything pushed so far: returns once every input is drained
   * and no channel holds records. Throws the job's failure, if it failed.
   */
  async settle(): Promise<void> {
    const running = this.requireRunning();
    for (let quiet = 0; quiet < 3; ) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.failure !== undefined) throw this.failure;
      if (this.finished) return;
      const busy = this.inputs.some((i) => !i.drained) || running.channels.some((c) => !c.isEmpty);
      quiet = busy ? 0 : quiet + 1;
    }
  }

  /** Moves processing time forward and lets the job react. */
  async advanceProcessingTime(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  /** Reads a step's keyed state for `key`. */
  state<D extends StateDescriptor>(uid: string, key: Key, descriptor: D): StateOf<D> {
    const backend = this.requireRunning().stateBackends.get(uid);
    if (!backend) throw new Error(`JobHarness: step '${uid}' has no keyed state (yet)`);
    backend.setCurrentKey(key);
    backend.setCurrentNamespace(undefined);
    return backend.getState(descriptor);
  }

  /** Ends every input and waits for the job to finish (rejects with its failure). */
  async finish(): Promise<void> {
    const running = this.requireRunning();
    for (const i of this.inputs) if (!i.drained || !this.finished) endQuietly(i);
    await running.done;
  }

  /** Cancels the job. */
  async cancel(): Promise<void> {
    const running = this.requireRunning();
    running.cancel();
    await running.done;
  }

  private requireRunning(): RunningJob {
    if (!this.running) throw new Error('JobHarness: call start() first');
    return this.running;
  }
}

function endQuietly(input: TestInput<unknown>): void {
  try {
    input.end();
  } catch {
    // already ended by the test
  }
}
