import type { ChannelEdge, PhysicalGraph } from '../plan/physical-graph.js';
import { LocalChannel, type ChannelReceiver, type ChannelSender } from './channel.js';
import type { RuntimeConfig } from './config.js';

/**
 * Where subtasks run, and how channels between places are made. In one thread
 * (`LOCAL_PLACEMENT`) every subtask runs here and every channel is a local queue; with
 * worker threads, subtask i of every chain runs in slot i, each thread builds the
 * subtasks of its own slot, and a channel whose ends are in two threads is opened from
 * endpoints made beforehand (see `parallel/`).
 */
export interface Placement {
  /** Whether subtask `subtask` of a chain runs in this thread. */
  isLocal(subtask: number): boolean;
  /**
   * A channel not wholly in this thread: the ends that are here (none when both are
   * elsewhere; the main thread still hands out the endpoints then).
   */
  crossing?(channel: ChannelEdge, senderHere: boolean, receiverHere: boolean): { sender?: ChannelSender<unknown>; receiver?: ChannelReceiver<unknown> };
  /**
   * How long a task here may keep the event loop before it lets timers, I/O and messages
   * run. In a parallel run, input and credit from other threads arrive as messages:
   * another thread may be waiting on them, so tasks yield more often.
   */
  readonly yieldIntervalMs: number;
}

export const LOCAL_PLACEMENT: Placement = { isLocal: () => true, yieldIntervalMs: 10 };

/** This thread's ends of the physical graph's channels, by channel id (undefined where an end is elsewhere). */
export interface ChannelEnds {
  readonly senders: readonly (ChannelSender<unknown> | undefined)[];
  readonly receivers: readonly (ChannelReceiver<unknown> | undefined)[];
  /** The channels wholly in this thread. */
  readonly local: readonly LocalChannel<unknown>[];
}

/**
 * Opens the channels of `physical` that have an end here: a local queue when both ends
 * are here, else what the placement makes. Every channel is visited, in id order, so a
 * main thread can hand out the endpoints of channels between two workers.
 */
export function openChannels(physical: PhysicalGraph, config: RuntimeConfig, placement: Placement): ChannelEnds {
  const senders: Array<ChannelSender<unknown> | undefined> = [];
  const receivers: Array<ChannelReceiver<unknown> | undefined> = [];
  const local: LocalChannel<unknown>[] = [];
  for (const edge of physical.edges) {
    const senderHere = placement.isLocal(edge.from.subtask);
    const receiverHere = placement.isLocal(edge.to.subtask);
    if (senderHere && receiverHere) {
      const channel = new LocalChannel<unknown>(config.channelCapacity);
      local.push(channel);
      config.metrics?.addChannel(edge.from.node.uid, edge.to.node.uid, channel);
      senders[edge.id] = receivers[edge.id] = channel;
    } else {
      const ends = placement.crossing!(edge, senderHere, receiverHere);
      senders[edge.id] = ends.sender;
      receivers[edge.id] = ends.receiver;
    }
  }
  return { senders, receivers, local };
}
