import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { describeSecret, isSecretRef, resolveSecret, scrubSecrets, type Secret } from '../../errors/secret.js';
import { SluiceError } from '../../errors/index.js';
import type { Format } from '../../formats/format.js';
import { Decoder, checkBadRecordPolicy, newIngestStats, type BadRecordPolicy, type IngestStats } from '../shared/ingest.js';
import { jsonFormat } from '../../formats/json.js';
import { Wakeup, wait } from '../shared/wait.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { loadOptional } from '../shared/optional-client.js';
import { checkTlsOptions, clientTls, type TlsOptions } from '../../net/tls.js';
import { describeTls } from '../shared/describe-tls.js';
import { authFailure, urlPlace } from '../shared/tls-error.js';

/** Options of {@link mqttSource}. */
export interface MqttSourceOptions<T> {
  /**
   * The broker (default `mqtt://127.0.0.1:1883`); `mqtts://`, `ws://` and `wss://` work too. A
   * URL with credentials may be given by reference: `{ env: 'MQTT_URL' }`, `{ file: '/run/secrets/mqtt-url' }`.
   */
  url?: Secret;
  /** Topic filters to subscribe to; MQTT wildcards allowed (`sensors/+/temp`, `plant/#`). */
  topics: string | string[];
  /** The subscription's QoS (default 1). QoS 0 messages may be dropped by the broker, as MQTT allows. */
  qos?: 0 | 1;
  /** The MQTT client id (default `sluice-<step uid>`): names the persistent session, so keep it stable and unique per broker. */
  clientId?: string;
  /**
   * Start a clean session on every connect (default false): a persistent session makes the
   * broker queue QoS-1 messages while the job is down and deliver them when it comes back.
   */
  cleanSession?: boolean;
  /** How payloads decode (default `jsonFormat<T>()`). */
  format?: Format<T>;
  /** What to do with a payload that fails to decode or validate (default 'dead-letter'). */
  onBadRecord?: BadRecordPolicy;
  /** Messages the reader holds before it stops reading from the broker (default 1000). */
  queueCapacity?: number;
  /** The user name the broker authenticates, when not in the URL. */
  username?: string;
  /** The password of `username`, when not in the URL; may be a reference (`{ env: 'MQTT_PASSWORD' }`). */
  password?: Secret;
  /**
   * TLS of an `mqtts://` or `wss://` URL: a private CA, a client certificate (brokers with
   * `require_certificate`), the name to verify. Without it the system's CAs verify the broker.
   */
  tls?: TlsOptions;
}

/** The source {@link mqttSource} returns: unbounded and not replayable (jobs reading it run with `delivery: 'none'`). */
export interface MqttSource<T> extends Source<T> {
  readonly kind: 'mqtt';
  readonly replayable: false;
  /** Counters across every reader of this source (restarts included). */
  readonly stats: IngestStats;
}

/** A received message, numbered in the order this reader received it (from 1). */
interface Received {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly n: number;
}

/** A message that came while the queue was full, with the callback that lets mqtt.js acknowledge it and read on. */
interface Held {
  readonly message: Received;
  readonly qos: number;
  readonly release: () => void;
  /** The connection it came on; see `MqttReader.connection`. */
  readonly connection: number;
}

/**
 * Reads MQTT topics (IoT devices, sensors) into a job. Every payload goes through `format`
 * (JSON by default); one that fails is a bad record at position `<topic>@<n>`, n counting
 * the messages this reader received, handled by `onBadRecord`.
 *
 * Not replayable: MQTT cannot read again from a position, so this source declares
 * `replayable: false`, and a job asking for `delivery: 'exactly-once'` or
 * `'at-least-once'` refuses it (DELIVERY_UNSUPPORTED); with checkpoints, say
 * `delivery: 'none'`. Guarantees: a QoS-1 message is acknowledged (PUBACK) when the
 * reader takes it into its queue, from where the next polls hand it to the job; until
 * then the broker keeps it (at-least-once from the broker's point of view, and a
 * persistent session, `cleanSession: false`, keeps it across restarts). Once acknowledged
 * it lives only in the job, so a crash or a restart loses what was queued or in flight:
 * at-most-once end to end. Order is the broker's (per topic, the publishing order).
 *
 * Backpressure: the queue holds at most `queueCapacity` messages. When it is full the
 * next message is held unacknowledged and the client reads nothing more (mqtt.js hands
 * messages over one at a time), so TCP backpressure reaches the broker, which keeps the
 * rest in the session (Mosquitto: up to `max_queued_messages`, 1000 by default, beyond
 * which the broker drops, never this reader). Nothing is dropped here: see the
 * backpressure test in `mqtt.test.ts`. One reader per client id: the broker disconnects
 * a second client with the same id.
 *
 * @example
 * const readings = mqttSource<Reading>({ topics: 'sensors/+/temp', clientId: 'sluice-temps' });
 */
export function mqttSource<T>(opts: MqttSourceOptions<T>): MqttSource<T> {
  const o = checkOptions(opts);
  const format = opts.format ?? jsonFormat<T>();
  if (typeof format.decode !== 'function') throw new SluiceError('INVALID_ARGUMENT', 'mqttSource: format must be a Format (jsonFormat(), …)');
  const policy = checkBadRecordPolicy('mqttSource', opts.onBadRecord);
  const stats = newIngestStats();
  return {
    kind: 'mqtt',
    bounded: false,
    replayable: false,
    stats,
    describe: () => `mqtt ${describeSecret(o.url)} ${o.topics.join(', ')} (qos ${o.qos}, ${o.cleanSession ? 'clean' : 'persistent'} session, ${format.name}${describeTls(o.tls)})`,
    createReader: (ctx) => new MqttReader<T>(o, opts.clientId ?? `sluice-${ctx.uid}`, ctx, new Decoder(format, policy, ctx, stats)),
  };
}

interface CheckedOptions {
  url: Secret;
  topics: string[];
  qos: 0 | 1;
  cleanSession: boolean;
  queueCapacity: number;
  username: string | undefined;
  password: Secret | undefined;
  tls: TlsOptions | undefined;
}

function checkOptions(opts: MqttSourceOptions<unknown>): CheckedOptions {
  const invalid = (what: string, got: unknown) => new SluiceError('INVALID_ARGUMENT', `mqttSource: ${what}, got ${JSON.stringify(got)}`);
  if (!opts || typeof opts !== 'object') throw invalid('expected options { topics, … }', opts);
  const topics = typeof opts.topics === 'string' ? [opts.topics] : opts.topics;
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && t !== '')) {
    throw invalid('topics must be a non-empty topic filter or a non-empty array of them', opts.topics);
  }
  const url = opts.url ?? 'mqtt://127.0.0.1:1883';
  if ((typeof url !== 'string' && !isSecretRef(url)) || url === '') throw invalid('url must be a broker URL such as mqtt://127.0.0.1:1883, or { env } / { file } naming one', isSecretRef(opts.url) ? describeSecret(opts.url) : opts.url);
  const qos = opts.qos ?? 1;
  if (qos !== 0 && qos !== 1) throw invalid('qos must be 0 or 1', opts.qos);
  if (opts.clientId !== undefined && (typeof opts.clientId !== 'string' || opts.clientId === '')) throw invalid('clientId must be a non-empty string', opts.clientId);
  const cleanSession = opts.cleanSession ?? false;
  if (typeof cleanSession !== 'boolean') throw invalid('cleanSession must be a boolean', opts.cleanSession);
  const queueCapacity = opts.queueCapacity ?? 1000;
  if (!Number.isInteger(queueCapacity) || queueCapacity < 1) throw invalid('queueCapacity must be a positive integer', opts.queueCapacity);
  if (opts.username !== undefined && (typeof opts.username !== 'string' || opts.username === '')) throw invalid('username must be a non-empty string', opts.username);
  if (opts.password !== undefined && opts.username === undefined) throw new SluiceError('INVALID_ARGUMENT', 'mqttSource: a password needs a username');
  checkTlsOptions(opts.tls, 'mqttSource');
  return { url, topics, qos, cleanSession, queueCapacity, username: opts.username, password: opts.password, tls: opts.tls };
}

class MqttReader<T> implements SourceReader<T> {
  private client: MqttClient | undefined;
  private readonly queue: Received[] = [];
  private held: Held[] = [];
  private readonly arrived = new Wakeup();
  private received = 0;
  /** Counts closed connections: a held message from an earlier connection can no longer be acknowledged. */
  private connection = 0;
  private failure: unknown;
  private closed = false;
  /** The broker URL and password once resolved: kept to hide them in messages. */
  private url = '';
  private secrets: string[] = [];

  constructor(
    private readonly opts: CheckedOptions,
    private readonly clientId: string,
    private readonly ctx: SourceContext,
    private readonly decoder: Decoder<T>,
  ) {}

  async open(): Promise<void> {
    await this.decoder.open();
    // Loaded on first use, like every connector's client: see `kafka/client.ts`.
    const { connect } = await loadOptional('mqtt', 'the MQTT source', () => import('mqtt'));
    const who = `mqtt source '${this.ctx.uid}'`;
    const url = (this.url = await resolveSecret(this.opts.url, `${who}: url`));
    const password = this.opts.password === undefined ? undefined : await resolveSecret(this.opts.password, `${who}: password`);
    this.secrets = password === undefined ? [url] : [url, password];
    const tls = clientTls(this.opts.tls, who);
    const client = (this.client = connect(url, {
      // Node's TLS options; mqtt.js's types are narrower (string or Buffer arrays, not mixed) than what it passes on to tls.connect.
      ...((tls ?? {}) as Pick<IClientOptions, 'ca' | 'cert' | 'key'>),
      ...(this.opts.username === undefined ? {} : { username: this.opts.username }),
      ...(password === undefined ? {} : { password }),
      clientId: this.clientId,
      clean: this.opts.cleanSession,
      manualConnect: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    }));
    // mqtt.js calls handleMessage for each incoming PUBLISH, one at a time, and sends the
    // PUBACK (QoS 1) and reads the next packet only once its callback is called.
    client.handleMessage = (packet, done) => this.accept(packet, done);
    client.on('close', () => this.connection++);
    client.on('error', (e) => {
      // Network errors (string codes) end in a reconnect; a refusal by the broker (a numeric reason code) does not get better.
      if (this.client && typeof (e as { code?: unknown }).code === 'number') this.failure ??= e;
      this.arrived.wake();
    });
    try {
      await this.connected(client);
    } catch (e) {
      this.client = undefined;
      client.end(true);
      throw this.failed('connecting to', e);
    }
    // Not awaited: a resumed session's queued messages come before the SUBACK and may fill
    // the queue, and the SUBACK is read only once poll makes room. A refusal fails the next poll.
    client.subscribe(this.opts.topics, { qos: this.opts.qos }, (error, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (error && this.client) this.failure ??= error;
      else if (refused.length > 0) this.failure ??= new Error(`the broker refused the subscription to ${refused.join(', ')}`);
      this.arrived.wake();
    });
  }

  private connected(client: MqttClient): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown): void => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
        this.ctx.signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onConnect = (): void => settle();
      const onError = (e: Error): void => settle(e);
      const onClose = (): void => settle(new Error('the connection closed before the broker accepted it'));
      const onAbort = (): void => settle(new Error('the job was cancelled while connecting'));
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
      this.ctx.signal.addEventListener('abort', onAbort, { once: true });
      client.connect();
    });
  }

  private accept(packet: IPublishPacket, done: () => void): void {
    const payload = typeof packet.payload === 'string' ? new TextEncoder().encode(packet.payload) : packet.payload;
    const message: Received = { topic: packet.topic.toString(), payload, n: ++this.received };
    if (this.held.length === 0 && this.queue.length < this.opts.queueCapacity) {
      this.queue.push(message);
      this.arrived.wake();
      done();
      return;
    }
    // Full: hold it unacknowledged; the client reads nothing more until poll makes room.
    this.held.push({ message, qos: packet.qos, release: done, connection: this.connection });
  }

  /** Moves held messages into the queue while it has room, acknowledging them (FIFO, so order holds). */
  private releaseHeld(): void {
    while (this.held.length > 0 && this.queue.length < this.opts.queueCapacity) {
      const h = this.held.shift()!;
      const sameConnection = h.connection === this.connection;
      // Its connection closed before the PUBACK: a resumed persistent session redelivers a
      // QoS-1 message, so keeping this copy would double it. Anything else would be lost: keep it.
      if (!sameConnection && h.qos === 1 && !this.opts.cleanSession) continue;
      this.queue.push(h.message);
      if (sameConnection) h.release();
    }
  }

  async poll(): Promise<SourceBatch<T>> {
    if (this.failure !== undefined) throw this.failed('reading from', this.failure);
    if (this.queue.length === 0) await wait(this.ctx.clock, this.ctx.maxPollWaitMs, this.ctx.signal, this.arrived);
    const taken = this.queue.splice(0, Math.max(1, this.ctx.maxBatchSize));
    this.releaseHeld();
    if (taken.length === 0) return { values: [] };
    const { values } = await this.decoder.decode(
      taken.map((m) => m.payload),
      (i) => `${taken[i]!.topic}@${taken[i]!.n}`,
    );
    return { values };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.decoder.close();
    this.arrived.wake();
    const client = this.client;
    this.client = undefined;
    // Held messages stay unacknowledged: a persistent session delivers them to the next run.
    const stalled = this.held.some((h) => h.connection === this.connection);
    this.held = [];
    if (!client) return;
    // A stalled client reads nothing, so it would never see the socket close after a
    // DISCONNECT: end it at once (the session persists either way; this client has no will).
    if (stalled) {
      await client.endAsync(true).catch(() => {});
      return;
    }
    const ended = client.endAsync(false).then(
      () => true,
      () => false,
    );
    const graceful = await Promise.race([ended, wait(this.ctx.clock, 2000).then(() => false)]);
    if (!graceful) client.end(true);
  }

  private failed(doing: string, e: unknown): SluiceError {
    const auth = authFailure(`mqtt source '${this.ctx.uid}'`, this.url ? urlPlace(this.url) : describeSecret(this.opts.url), e, this.secrets, this.ctx.uid);
    if (auth) return auth;
    const reason = e instanceof Error ? e.message : String(e);
    const text = scrubSecrets(`failed ${doing} ${this.url || describeSecret(this.opts.url)} (topics ${this.opts.topics.join(', ')}): ${reason}`, this.secrets);
    return new SluiceError('SOURCE_FAILED', `mqtt source '${this.ctx.uid}': ${text}`, {
      step: this.ctx.uid,
      hint: 'Start the broker (scripts/services.sh mosquitto) or fix `url`, and check that the client may subscribe to the topics.',
    });
  }
}
