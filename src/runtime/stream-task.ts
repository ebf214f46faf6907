import type { ChannelReceiver } from './channel.js';
import { InputGate } from './input-gate.js';
import type { Operator } from './operator.js';
import { Task, type TaskSpec } from './task.js';
import { WHAT } from './watchdog/step-stamps.js';
import { WatermarkValve } from './watermark-valve.js';

/** A stream task's spec: its input channels' receiving ends are among `receivers`. */
export interface StreamTaskSpec extends TaskSpec {
  /** Receiving ends of this thread's channels, by channel id: those of `node.inputs` are all here. */
  readonly receivers: readonly (ChannelReceiver<unknown> | undefined)[];
}

/** Takes events from its input channels and drives the head of its chain. */
export class StreamTask extends Task {
  private readonly valve: WatermarkValve;
  /** The checkpoint whose barriers are being aligned, and since when. */
  private aligning: number | undefined;
  private alignStart = 0;
  private readonly ended: boolean[];
  private readonly gate: InputGate;

  constructor(spec: StreamTaskSpec) {
    super(spec);
    this.gate = new InputGate(spec.node.inputs.map((channel) => ({ channel: spec.receivers[channel.id]!, input: channel.edge.input })));
    this.valve = new WatermarkValve(this.gate.inputs.length);
    this.ended = this.gate.inputs.map(() => false);
  }

  /**
   * A barrier from channel `c`: hold that channel back until every other open channel
   * has delivered the same barrier (aligned checkpoints), then snapshot and go on.
   */
  private async onBarrier(c: number, id: number): Promise<void> {
    if (this.aligning !== undefined && id < this.aligning) return; // a barrier of a checkpoint given up
    if (this.aligning === undefined || id > this.aligning) {
      this.gate.unblockAll();
      this.aligning = id;
      this.alignStart = performance.now();
    }
    this.gate.block(c);
    await this.completeAlignment();
  }

  /** Finishes the alignment once every channel has delivered the barrier or ended. */
  private async completeAlignment(): Promise<void> {
    const id = this.aligning;
    if (id === undefined) return;
    for (let c = 0; c < this.ended.length; c++) if (!this.ended[c] && !this.gate.isBlocked(c)) return;
    this.aligning = undefined;
    await this.checkpoint(id, performance.now() - this.alignStart);
    this.gate.unblockAll();
  }

  override stop(): void {
    super.stop();
    this.gate.wake();
  }

  protected async loop(): Promise<void> {
    const head = this.operators[0]!;
    const inputs = this.gate.inputs;
    const stamp = this.stamp;
    let open = inputs.length;
    while (open > 0) {
      if (this.stopped) return;
      const next = this.gate.poll();
      const m = this.metrics;
      if (next === undefined) {
        this.flushChannelOutputs();
        const t = m ? performance.now() : 0;
        await this.gate.waitForData();
        if (m) m.idleMs += performance.now() - t;
        continue;
      }
      const { event, channel } = next;
      const t0 = m ? performance.now() : 0;
      if (m) {
        if (event.kind === 'batch') m.batchIn(event.batch.values.length, event.readAt, event.traceId);
        else m.control();
      }
      switch (event.kind) {
        // Each synchronous call into the chain is stamped for the watchdog (not the
        // barrier's, whose snapshot may wait on a state backend).
        case 'batch':
          if (this.diagnosing && event.batch.values.length > 1) {
            const { values, timestamps } = event.batch;
            for (let i = 0; i < values.length; i++) {
              const one = { values: [values[i]], timestamps: [timestamps[i]!] };
              stamp.enterBatch(0, one.values);
              head.processBatch(one, inputs[channel]!.input);
              stamp.leave();
            }
            break;
          }
          stamp.enterBatch(0, event.batch.values);
          head.processBatch(event.batch, inputs[channel]!.input);
          stamp.leave();
          break;
        case 'watermark': {
          stamp.enter(0, WHAT.watermark, 0);
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.watermark(channel, event.watermark));
          this.reportIdle(head, wasIdle);
          stamp.leave();
          break;
        }
        case 'idle': {
          stamp.enter(0, WHAT.idle, 0);
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.setIdle(channel, event.idle));
          this.reportIdle(head, wasIdle);
          stamp.leave();
          break;
        }
        case 'barrier':
          await this.onBarrier(channel, event.checkpointId);
          break;
        case 'end': {
          open--;
          this.ended[channel] = true;
          if (open > 0) await this.completeAlignment();
          stamp.enter(0, WHAT.end, 0);
          const wasIdle = this.valve.isIdle;
          this.advance(head, this.valve.end(channel));
          this.reportIdle(head, wasIdle);
          if (open === 0) head.endInput();
          stamp.leave();
          break;
        }
      }
      if (m) m.processed(t0);
      await this.drain();
      this.throwIfFailed();
    }
  }

  private advance(head: Operator, watermark: number | undefined): void {
    if (watermark !== undefined) head.processWatermark(watermark);
  }

  /** Tells the chain when the task turns idle or active: any event may do it (an input that ends while the others are idle, say). */
  private reportIdle(head: Operator, wasIdle: boolean): void {
    if (this.valve.isIdle !== wasIdle) head.processIdle(this.valve.isIdle);
  }
}
