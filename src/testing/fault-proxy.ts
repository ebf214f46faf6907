import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { SluiceError } from '../errors/index.js';
import { SystemClock, type Clock } from '../time/clock.js';
import { toMillis, type Duration } from '../time/duration.js';

/** What a {@link FaultProxy} does to traffic, as set by its methods or a {@link FaultStep}. */
export type Fault =
  /** Every chunk waits this long before it is passed on (both ways). */
  | { readonly latency: Duration }
  /**
   * Connections stay open but nothing passes (a network partition): calls hang until
   * their timeout. What was sent meanwhile is held, and goes on once healed, as TCP's
   * retransmissions would deliver it.
   */
  | { readonly blackhole: true }
  /** Open connections are reset (TCP RST). */
  | 'reset'
  /** Open connections are closed (FIN). */
  | 'drop'
  /** New connections are refused (the port stops listening); open ones are left alone. */
  | 'refuse'
  /** Back to normal: no latency, no blackhole, new connections accepted. */
  | 'heal';

/** One step of a {@link FaultProxy.schedule}: `fault` happens `after` the schedule starts. */
export interface FaultStep {
  readonly after: Duration;
  readonly fault: Fault;
}

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The real service. */
  target: { host?: string; port: number };
  /** The port to listen on (default 0: any free port; read it from {@link FaultProxy.port}). */
  port?: number;
  /** The clock latency and schedules run on (default: the system clock). */
  clock?: Clock;
}

/** What a {@link FaultProxy} has counted. */
export interface FaultProxyStats {
  /** Connections accepted and passed to the target. */
  connections: number;
  /** Connections reset or closed by a fault. */
  cut: number;
  /** Bytes passed on, both ways. */
  bytes: number;
  /** Chunks held back because the proxy was blackholed when they came. */
  held: number;
}

/** A pair of sockets: the client's and the target's. */
interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
}

/**
 * A TCP proxy for tests, between Sluice and a real service (Redis, PostgreSQL, an HTTP
 * server): it adds latency, blackholes traffic, resets or closes connections and refuses
 * new ones, when told or on a schedule. Point the client at `proxy.port` instead of the
 * service's, then break things and watch timeouts fire, breakers open and close, retries
 * succeed, and a restarted job lose or double nothing.
 *
 * @example
 * const proxy = await FaultProxy.start({ target: { port: 6379 } });
 * const lookup = redisKeyLookup({ url: `redis://127.0.0.1:${proxy.port}`, redisKey: (k) => `user:${k}` });
 * proxy.set({ blackhole: true });    // calls hang: the step's timeout fires
 * proxy.set('reset');                // open connections get a TCP reset
 * proxy.schedule([{ after: '1s', fault: 'refuse' }, { after: '3s', fault: 'heal' }]);
 * await proxy.close();
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly clock: Clock;
  private latencyMs = 0;
  /** Resolved unless blackholed: every chunk passes through it. */
  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | undefined;
  private refusing = false;
  private listening = true;
  private readonly timers = new Set<() => void>();
  readonly stats: FaultProxyStats = { connections: 0, cut: 0, bytes: 0, held: 0 };

  private constructor(
    private readonly target: { readonly host: string; readonly port: number },
    /** The port the proxy listens on: give it to the client instead of the service's. */
    readonly port: number,
    server: Server,
    clock: Clock,
  ) {
    this.server = server;
    this.clock = clock;
    server.on('connection', (s) => this.accept(s));
  }

  /** Starts a proxy to `options.target` on 127.0.0.1. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const port = options?.target?.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SluiceError('INVALID_ARGUMENT', `FaultProxy: target.port must be a TCP port, got ${String(port)}`);
    const server = createServer({ noDelay: true });
    const bound = await listen(server, options.port ?? 0);
    return new FaultProxy({ host: options.target.host ?? '127.0.0.1', port }, bound, server, options.clock ?? new SystemClock());
  }

  /** The address to give a client: `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections open through the proxy now. */
  get openConnections(): number {
    return this.links.size;
  }

  /** Applies a fault now. Latency and blackhole hold until `'heal'` (or another latency); `'refuse'` until `'heal'`. */
  set(fault: Fault): void {
    if (fault === 'heal') {
      this.latencyMs = 0;
      this.refusing = false;
      this.openGate?.();
      this.openGate = undefined;
      this.relisten();
    } else if (fault === 'reset' || fault === 'drop') {
      for (const link of [...this.links]) this.cut(link, fault);
    } else if (fault === 'refuse') {
      this.refusing = true;
      if (this.listening) {
        this.listening = false;
        this.server.close();
      }
    } else if ('latency' in fault) {
      this.latencyMs = toMillis(fault.latency, 'FaultProxy latency');
    } else if ('blackhole' in fault) {
      if (this.openGate === undefined) this.gate = new Promise<void>((resolve) => (this.openGate = resolve));
    } else {
      throw new SluiceError('INVALID_ARGUMENT', `FaultProxy: unknown fault ${JSON.stringify(fault)}`);
    }
  }

  /**
   * Applies each step's fault `after` its delay on the proxy's clock, counted from now.
   * Returns a function that cancels the steps not yet applied.
   */
  schedule(steps: readonly FaultStep[]): () => void {
    const start = this.clock.now();
    const cancels = steps.map((step) => {
      const at = start + toMillis(step.after, 'FaultProxy schedule after');
      const cancel = this.clock.schedule(at, () => {
        this.timers.delete(cancel);
        this.set(step.fault);
      });
      this.timers.add(cancel);
      return cancel;
    });
    return () => {
      for (const c of cancels) {
        c();
        this.timers.delete(c);
      }
    };
  }

  /** Stops listening, cancels the schedule and closes every connection. */
  async close(): Promise<void> {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    for (const link of [...this.links]) this.cut(link, 'drop');
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relisten(): void {
    if (this.listening) return;
    this.listening = true;
    this.server.listen(this.port, '127.0.0.1');
  }

  private accept(client: Socket): void {
    if (this.refusing) return void client.resetAndDestroy();
    this.stats.connections++;
    client.setNoDelay(true);
    const upstream = createConnection({ host: this.target.host, port: this.target.port, noDelay: true });
    const link: Link = { client, upstream };
    this.links.add(link);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    // The target refusing or resetting shows to the client as a reset too.
    const end = (peer: Socket) => () => {
      if (!this.links.delete(link)) return;
      peer.resetAndDestroy();
    };
    client.on('error', end(upstream));
    upstream.on('error', end(client));
    client.on('close', () => this.links.delete(link) && upstream.destroy());
    upstream.on('close', () => this.links.delete(link) && client.destroy());
  }

  /** Passes `from`'s data on to `to`, in order: held while blackholed, late by the latency. */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const delay = this.latencyMs;
      const due = this.clock.now() + delay;
      if (this.openGate) this.stats.held++;
      chain = chain
        .then(() => this.gate)
        .then(() => (delay > 0 ? this.clock.sleep(Math.max(0, due - this.clock.now())) : undefined))
        .then(() => this.forward(to, chunk));
    });
    from.on('end', () => void chain.then(() => to.end()));
  }

  private forward(to: Socket, chunk: Buffer): void {
    if (to.destroyed) return;
    this.stats.bytes += chunk.length;
    to.write(chunk);
  }

  private cut(link: Link, how: 'reset' | 'drop'): void {
    if (!this.links.delete(link)) return;
    this.stats.cut++;
    if (how === 'reset') {
      link.client.resetAndDestroy();
      link.upstream.resetAndDestroy();
    } else {
      link.client.destroy();
      link.upstream.destroy();
    }
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
