import type { ChannelEvent, ChannelReceiver } from './channel.js';

/** One channel into a task, and which input of the task's first operator it feeds. */
export interface GateInput {
  readonly channel: ChannelReceiver<unknown>;
  readonly input: number;
}

/**
 * The receiving side of a task: polls its channels in turn (fairly, so one busy input
 * cannot starve another) and lets the task sleep until any of them has something.
 */
export class InputGate {
  private next = 0;
  private waiter: (() => void) | undefined;
  /** Channels held back while a checkpoint barrier is being aligned. */
  private readonly blocked: boolean[];

  constructor(readonly inputs: readonly GateInput[]) {
    for (const { channel } of inputs) channel.onData = () => this.wake();
    this.blocked = inputs.map(() => false);
  }

  /** Stops taking from channel `c` (it delivered a barrier; the others have not yet). */
  block(c: number): void {
    this.blocked[c] = true;
  }
  isBlocked(c: number): boolean {
    return this.blocked[c]!;
  }
  unblockAll(): void {
    this.blocked.fill(false);
  }

  /** The next event and the index of the channel it came from, or undefined when all are empty. */
  poll(): { event: ChannelEvent<unknown>; channel: number } | undefined {
    const n = this.inputs.length;
    for (let k = 0; k < n; k++) {
      const c = (this.next + k) % n;
      if (this.blocked[c]) continue;
      const event = this.inputs[c]!.channel.shift();
      if (event !== undefined) {
        this.next = (c + 1) % n;
        return { event, channel: c };
      }
    }
    return undefined;
  }

  /** Resolves when a channel receives something, or when `wake()` is called. */
  waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
