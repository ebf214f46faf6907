import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SluiceError } from '../../errors/index.js';
import { toPositiveMillis, type Duration } from '../../time/duration.js';
import { Wakeup, wait } from '../shared/wait.js';
import { createHttpServer, serverTls, type ServerTlsOptions } from '../../net/tls.js';
import type { Source, SourceBatch, SourceContext, SourceReader } from '../source.js';
import { listed, parseBody, readBody, type ByteBudget, type RecordProblem, type Utf8Policy } from './body.js';
import { DurableLog } from './durable-log.js';
import { RecordQueue } from './record-queue.js';

/** A queued record and, with a durable log, the log offset just after it (-1 without). */
interface Queued<T> {
  readonly v: T;
  readonly end: number;
}

/** Options of {@link httpSource}. */
export interface HttpSourceOptions<T> {
  /** The port to listen on; 0 picks a free one (read it from `address()`). */
  port: number;
  /** The interface to listen on (default `127.0.0.1`; `0.0.0.0` for every interface). */
  host?: string;
  /** The path that takes records (default `/ingest`). */
  path?: string;
  /** How many accepted records may wait to be polled (default 10 000). */
  queueCapacity?: number;
  /**
   * How many bytes of request bodies may be held at once, accepted and waiting to be polled
   * or still arriving (default 64 MiB). A request that would go over gets 429 with
   * Retry-After, as one over `queueCapacity` does, and is not kept: memory stays bounded
   * however large the records. Counted as the bodies' bytes (the JSON text); parsed records
   * take a few times that in memory.
   */
  maxQueueBytes?: number;
  /** The Retry-After (seconds) of a 429 or 503 answer (default 1). */
  retryAfterSeconds?: number;
  /** The largest request body taken, in bytes (default 8 MiB, and at most `maxQueueBytes`); larger ones get 413. */
  maxBodyBytes?: number;
  /**
   * How long a client may take to send a request's headers (default 10 s); then it gets
   * 408 and its connection is closed. Bounds slow-loris connections that never finish
   * their headers. At most `requestTimeout`.
   */
  headersTimeout?: Duration;
  /** How long a client may take to send a whole request, headers and body (default 30 s); then 408 and the connection is closed. */
  requestTimeout?: Duration;
  /** How long an idle keep-alive connection stays open after its last answer (default 5 s). */
  keepAliveTimeout?: Duration;
  /**
   * The most connections open at once (default 1 024). One more is closed as soon as it
   * is accepted (counted in `stats().droppedConnections`), so that clients that hold
   * connections cannot exhaust the process's file descriptors.
   */
  maxConnections?: number;
  /**
   * What to do with a JSON or NDJSON body that is not valid UTF-8 (RFC 8259 requires it):
   * `'reject'` (the default) answers 400 naming the byte offset, `'replace'` reads the bad
   * bytes as U+FFFD and accepts the records. A leading byte order mark is skipped either way.
   */
  utf8?: Utf8Policy;
  /** Validates and converts each record; throwing rejects the request (400). Without it records pass as parsed JSON. */
  parse?: (value: unknown) => T;
  /**
   * A directory for the durable log: accepted records are written there, and fsynced,
   * before the 2xx answer, and the source becomes replayable (its position goes into
   * checkpoints; after a crash, records accepted but not yet covered by a checkpoint are
   * read again). The log drops records only once a checkpoint that covers them has
   * completed, and only when it holds nothing newer (an idle moment, or after `stop()`).
   * Without it, records accepted but not yet processed are lost in a crash.
   */
  durableLog?: string;
  /**
   * Serve HTTPS with this certificate and key; with `ca` too, mutual TLS: a client without
   * a certificate of one of those CAs is refused during the handshake. Read when the
   * reader opens (a missing file fails the job's start). Default: plain HTTP.
   */
  tls?: ServerTlsOptions;
}

/** Where the source listens, once it does. */
export interface HttpSourceAddress {
  readonly host: string;
  readonly port: number;
  /** The ingest URL, for example `http://127.0.0.1:40123/ingest` (`https://` with `tls`). */
  readonly url: string;
}

/** Counters of what the endpoint answered, since the source was built. */
export interface HttpSourceStats {
  /** Records accepted (202) and queued. */
  acceptedRecords: number;
  /** Requests answered 202. */
  acceptedRequests: number;
  /** Requests refused with 429 because their records or bytes did not all fit in the queue. */
  throttledRequests: number;
  /** Requests refused as malformed, invalid, too large or of an unsupported type (400, 413, 415). */
  rejectedRequests: number;
  /** Requests refused with 503 after `stop()` or `close()`, or once the job is cancelled. */
  unavailableRequests: number;
  /** Requests refused with 503 because the durable log could not take them (a full disk, an I/O error). */
  failedRequests: number;
  /** Connections closed as soon as accepted, because `maxConnections` were open. */
  droppedConnections: number;
  /** Records waiting to be polled now (with places held for requests being logged). */
  queued: number;
  /** Bytes held now: bodies of records waiting to be polled and of requests still arriving. */
  queuedBytes: number;
  /** Connections open now. */
  connections: number;
  /** fsyncs of the durable log: with group commit, one covers every request that arrived while the previous one ran. */
  logSyncs: number;
}

/** The reader of an {@link httpSource}: it runs the HTTP server while the job runs. */
export interface HttpSourceReader<T> extends SourceReader<T> {
  /** Records waiting to be polled. */
  readonly queued: number;
  /** Bytes held by the queue (see {@link HttpSourceStats.queuedBytes}). */
  readonly queuedBytes: number;
}

/**
 * The source {@link httpSource} returns: unbounded until `stop()`, replayable only with a
 * `durableLog`, one reader.
 */
export interface HttpSource<T> extends Source<T> {
  readonly kind: 'http';
  readonly bounded: false;
  describe(): string;
  /** Resolves with the bound address once a reader listens (rejects when it cannot). */
  address(): Promise<HttpSourceAddress>;
  /** The ingest URL while listening, else undefined. */
  readonly url: string | undefined;
  /**
   * Stops accepting (new requests get 503), lets the reader hand out every record
   * already accepted, then ends the stream (`done`), so that a job can finish without
   * dropping anything it answered 202 for.
   */
  stop(): void;
  /** A copy of the counters, with the records queued now. */
  stats(): HttpSourceStats;
  createReader(ctx: SourceContext): HttpSourceReader<T>;
}

/**
 * An HTTP endpoint that takes records by POST: a webhook receiver or ingest API, with a
 * bounded queue between it and the job.
 *
 * - `Content-Type: application/json`: one record, or an array of records.
 *   `application/x-ndjson`: one JSON record per line.
 * - All or nothing: a request whose records do not all fit in the queue gets
 *   `429 Too Many Requests` with `Retry-After`, and none of its records is taken; else
 *   all are queued and the answer is `202 { "accepted": n }`. A request with more records
 *   than the whole queue can ever hold gets 413. This is how backpressure reaches an
 *   HTTP producer: the queue fills when the job does not poll.
 * - A malformed body gets `400` naming the line; when `parse` throws for some records
 *   the answer is `400` listing each (by line, or by array index) and none of the
 *   request's records is taken. Refusing the whole request keeps the contract simple and
 *   honest: a 2xx means every record was taken, anything else means none was, so a
 *   client can always retry the whole request after fixing it. Bad input is answered to
 *   its sender, so it is not passed to `ctx.badRecord` (one bad client must not fail the
 *   job); it is counted in `stats()`.
 * - Body over `maxBodyBytes`: 413. Another method: 405. Another path: 404. An
 *   unsupported Content-Type: 415. A body that is not UTF-8: 400 (see `utf8`).
 * - The queue is bounded in bytes too (`maxQueueBytes`), counting bodies still arriving:
 *   a request that would go over gets 429 before its body is kept.
 * - Connections are bounded: `maxConnections` at once, `headersTimeout` to send the
 *   headers, `requestTimeout` for the whole request (408 after either), `keepAliveTimeout`
 *   idle between requests. Defaults: 1 024, 10 s, 30 s, 5 s.
 * - With `durableLog`, 202 means the records are written and fsynced. When the log cannot
 *   take them (a full disk: `STORAGE_FULL`; another write error: `INGEST_LOG_FAILED`)
 *   the answer is 503 with Retry-After and that code, and none of them was accepted.
 * - Accepted records are never dropped while the reader lives: they wait in the queue
 *   until polled. `stop()` refuses new requests (503) and lets the reader drain the queue
 *   and then end; `close()`, and the job's cancellation, refuse them too (503).
 *
 * The source listens on one port, so it runs with parallelism 1.
 *
 * @example
 * const clicks = httpSource({ port: 8080, parse: (v) => ClickSchema.parse(v) });
 * // curl -H 'Content-Type: application/x-ndjson' --data-binary @clicks.ndjson http://127.0.0.1:8080/ingest
 * const { url } = await clicks.address(); // once the job runs
 */
export function httpSource<T = unknown>(opts: HttpSourceOptions<T>): HttpSource<T> {
  const port = opts?.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SluiceError('INVALID_ARGUMENT', `httpSource: port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const host = opts.host ?? '127.0.0.1';
  const path = opts.path ?? '/ingest';
  if (!path.startsWith('/')) throw new SluiceError('INVALID_ARGUMENT', `httpSource: path must start with '/', got ${JSON.stringify(path)}`);
  const capacity = positiveInteger(opts.queueCapacity ?? 10_000, 'queueCapacity');
  const maxQueueBytes = positiveInteger(opts.maxQueueBytes ?? 64 * 1024 * 1024, 'maxQueueBytes');
  const maxBodyBytes = positiveInteger(opts.maxBodyBytes ?? 8 * 1024 * 1024, 'maxBodyBytes');
  const maxConnections = positiveInteger(opts.maxConnections ?? 1_024, 'maxConnections');
  const headersTimeoutMs = Math.ceil(toPositiveMillis(opts.headersTimeout ?? '10s', 'httpSource: headersTimeout'));
  const requestTimeoutMs = Math.ceil(toPositiveMillis(opts.requestTimeout ?? '30s', 'httpSource: requestTimeout'));
  const keepAliveTimeoutMs = Math.ceil(toPositiveMillis(opts.keepAliveTimeout ?? '5s', 'httpSource: keepAliveTimeout'));
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new SluiceError('INVALID_ARGUMENT', `httpSource: headersTimeout (${headersTimeoutMs} ms) must not be longer than requestTimeout (${requestTimeoutMs} ms): the headers are part of the request`);
  }
  const utf8 = opts.utf8 ?? 'reject';
  if (utf8 !== 'reject' && utf8 !== 'replace') {
    throw new SluiceError('INVALID_ARGUMENT', `httpSource: utf8 must be 'reject' or 'replace', got ${JSON.stringify(utf8)}`);
  }
  const retryAfter = opts.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) {
    throw new SluiceError('INVALID_ARGUMENT', `httpSource: retryAfterSeconds must be a non-negative integer, got ${String(retryAfter)}`);
  }
  if (opts.tls !== undefined && (typeof opts.tls !== 'object' || opts.tls === null || opts.tls.cert === undefined || opts.tls.key === undefined)) {
    throw new SluiceError('INVALID_ARGUMENT', 'httpSource: tls needs cert and key (PEM text, file paths or secret references), and ca for mutual TLS');
  }
  if (opts.parse !== undefined && typeof opts.parse !== 'function') {
    throw new SluiceError('INVALID_ARGUMENT', 'httpSource: parse must be a function (value) => record');
  }
  const config: IngestConfig<T> = {
    host,
    port,
    path,
    capacity,
    maxQueueBytes,
    // A body the queue can never hold is too large, not throttled.
    maxBodyBytes: Math.min(maxBodyBytes, maxQueueBytes),
    maxConnections,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    utf8,
    retryAfter,
    parse: opts.parse,
    durableLog: opts.durableLog,
    tls: opts.tls,
  };

  const stats: HttpSourceStats = {
    acceptedRecords: 0,
    acceptedRequests: 0,
    throttledRequests: 0,
    rejectedRequests: 0,
    unavailableRequests: 0,
    failedRequests: 0,
    droppedConnections: 0,
    queued: 0,
    queuedBytes: 0,
    connections: 0,
    logSyncs: 0,
  };
  let listening = deferred<HttpSourceAddress>();
  let current: HttpIngest<T> | undefined;
  let stopped = false;

  return {
    kind: 'http',
    bounded: false,
    replayable: opts.durableLog !== undefined,
    describe: () => `${opts.tls ? 'https' : 'http'} POST ${host}:${port === 0 ? '(any port)' : port}${path} (queue ${capacity} records / ${bytesText(maxQueueBytes)}, json/ndjson)`,
    address: () => listening.promise,
    get url() {
      return current?.address?.url;
    },
    stop() {
      stopped = true;
      current?.stop();
    },
    stats: () => ({
      ...stats,
      queued: current?.queued ?? 0,
      queuedBytes: current?.queuedBytes ?? 0,
      connections: current?.connections ?? 0,
      logSyncs: current?.logSyncs ?? 0,
    }),
    createReader(ctx) {
      if (current && !current.closed) {
        throw new SluiceError('INVALID_ARGUMENT', `httpSource '${ctx.uid}': a reader already listens on this source; run it with parallelism 1`);
      }
      if (listening.settled) listening = deferred();
      const ingest = new HttpIngest<T>(config, stats, ctx, listening);
      current = ingest;
      if (stopped) ingest.stop();
      return ingest;
    },
  };
}

interface IngestConfig<T> {
  host: string;
  port: number;
  path: string;
  capacity: number;
  maxQueueBytes: number;
  maxBodyBytes: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  utf8: Utf8Policy;
  retryAfter: number;
  parse: ((value: unknown) => T) | undefined;
  durableLog: string | undefined;
  tls: ServerTlsOptions | undefined;
}

/** One reader: the server, its queue, and the poll that drains it. */
class HttpIngest<T> implements HttpSourceReader<T> {
  private readonly queue: RecordQueue<Queued<T>>;
  private readonly log: DurableLog | undefined;
  /** Log offset after the last record handed out. */
  private position = 0;
  /** The position each checkpoint in flight holds, by id: the log is compacted through it once that checkpoint completes. */
  private readonly positions = new Map<number, number>();
  private readonly arrived = new Wakeup();
  private server: Server | undefined;
  /** New requests are taken (else 503): false after stop(), close() or the job's cancellation. */
  private accepting = true;
  /** The stream ends once the queue is empty: after stop(). */
  private ending = false;
  connections = 0;
  closed = false;
  address: HttpSourceAddress | undefined;

  constructor(
    private readonly config: IngestConfig<T>,
    private readonly stats: HttpSourceStats,
    private readonly ctx: SourceContext,
    private readonly listening: Deferred<HttpSourceAddress>,
  ) {
    this.queue = new RecordQueue<Queued<T>>(config.capacity, config.maxQueueBytes);
    this.log = config.durableLog === undefined ? undefined : new DurableLog(config.durableLog, { clock: ctx.clock });
    // The job is stopping: take no more input (what was accepted is in the log, or lost with the queue without one).
    ctx.signal.addEventListener('abort', () => this.refuse(), { once: true });
  }

  /** The log offset after the last record handed out (what a checkpoint keeps). */
  snapshotPosition(checkpointId?: number): { offset: number } | undefined {
    if (!this.log) return undefined;
    if (checkpointId !== undefined) this.positions.set(checkpointId, this.position);
    return { offset: this.position };
  }

  /**
   * Checkpoint `checkpointId` is complete: the records up to the position it holds are
   * committed, so the log may drop them, if it holds nothing after (`DurableLog.compactThrough`).
   * Only here, never at the barrier: a checkpoint that fails, or a restart before it
   * completes, replays them from the log (`test/connectors/http/log-compaction.test.ts`).
   */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (!this.log) return;
    // The final checkpoint (Number.MAX_SAFE_INTEGER) covers all that was handed out.
    const covered = this.positions.get(checkpointId) ?? (checkpointId === Number.MAX_SAFE_INTEGER ? this.position : undefined);
    for (const id of this.positions.keys()) if (id <= checkpointId) this.positions.delete(id);
    if (covered === undefined) return;
    try {
      await this.log.compactThrough(covered);
    } catch (error) {
      // Left for a later checkpoint. After the final one it fails the job's attempt: a run
      // that starts afresh would replay the log. The restart resumes from that checkpoint
      // (kept), replays nothing, and compacts again.
      if (checkpointId === Number.MAX_SAFE_INTEGER) {
        throw new SluiceError('INGEST_LOG_FAILED', `httpSource '${this.ctx.uid}': could not empty ${this.log.path} after its records were committed`, {
          detail: error instanceof Error ? error.message : String(error),
          step: this.ctx.uid,
          cause: error,
        });
      }
    }
  }

  /** Queues the logged records a checkpoint does not cover: accepted before a crash, not yet processed. */
  private async replayLog(): Promise<void> {
    const log = this.log!;
    const torn = await log.open();
    if (torn) {
      // No logger reaches a source: a process warning is what the file source uses too.
      process.emitWarning(
        new SluiceError(
          'INGEST_LOG_TORN',
          `httpSource '${this.ctx.uid}': ${log.path} ended in a torn record (${torn.reason}); cut ${torn.bytes} bytes at offset ${torn.offset}: ${torn.preview}`,
          { step: this.ctx.uid },
        ),
      );
    }
    const restored = (this.ctx.restoredPosition as { offset: number } | undefined)?.offset;
    if (restored !== undefined && restored < log.start) {
      // Only an older checkpoint than the latest (a fallback, a savepoint) is before the
      // compaction: what lies between was committed after it, and is no longer in the log.
      process.emitWarning(
        `httpSource '${this.ctx.uid}': resuming at log offset ${restored}, but the log starts at ${log.start} (compacted after a later checkpoint completed): the records between are not replayed`,
        { code: 'SLUICE_INGEST_LOG_COMPACTED' },
      );
    }
    const from = Math.max(restored ?? log.start, log.start);
    this.position = from;
    const replay: Queued<T>[] = [];
    let bytes = 0;
    let at = from;
    for (const { line, end } of await log.readFrom(from)) {
      bytes += end - at;
      at = end;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (error) {
        this.ctx.badRecord(line, error, `${log.path}@${end}`);
        continue;
      }
      replay.push({ v: this.config.parse ? this.config.parse(raw) : (raw as T), end });
    }
    this.queue.fill(replay, bytes, false);
  }

  get queued(): number {
    return this.queue.size;
  }
  get queuedBytes(): number {
    return this.queue.bytes;
  }
  get logSyncs(): number {
    return this.log?.syncs ?? 0;
  }

  async open(): Promise<void> {
    if (this.server) return;
    if (this.log) await this.replayLog();
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.config;
    let tls: ReturnType<typeof serverTls> | undefined;
    try {
      tls = this.config.tls && serverTls(this.config.tls, `httpSource '${this.ctx.uid}'`);
    } catch (e) {
      // Whoever waits for the address learns it too.
      this.listening.reject(e);
      throw e;
    }
    const server = createHttpServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        // Node enforces the two timeouts on an interval, 30 s by default (with its 60 s headers
        // timeout, header-stage connections lived 90 s): check often enough to keep them.
        connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4))),
      },
      tls,
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => {
          // A bug here must not take the process down: answer 500 and say what happened.
          if (!res.headersSent) send(res, 500, { error: 'internal error', message: error instanceof Error ? error.message : String(error) });
          else res.destroy();
        });
      },
    );
    server.keepAliveTimeout = keepAliveTimeoutMs;
    // Beyond it, Node closes a new connection as soon as it is accepted ('drop').
    server.maxConnections = this.config.maxConnections;
    server.on('drop', () => this.stats.droppedConnections++);
    server.on('connection', (socket: Socket) => {
      this.connections++;
      socket.once('close', () => this.connections--);
    });
    // A request whose headers or body do not arrive in time gets Node's own answer: 408, then the connection is closed.
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.config.port, this.config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      const e = new SluiceError('SOURCE_FAILED', `httpSource '${this.ctx.uid}': cannot listen on ${this.config.host}:${this.config.port}`, {
        detail: error instanceof Error ? error.message : String(error),
        hint: (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'Another process uses this port: pick another, or 0 for any free one.' : undefined,
        step: this.ctx.uid,
        cause: error,
      });
      this.listening.reject(e);
      throw e;
    }
    const { address, port } = server.address() as AddressInfo;
    const urlHost = address.includes(':') ? `[${address}]` : address;
    this.address = { host: address, port, url: `${tls ? 'https' : 'http'}://${urlHost}:${port}${this.config.path}` };
    this.listening.resolve(this.address);
  }

  async poll(): Promise<SourceBatch<T>> {
    if (!this.server && !this.closed) await this.open();
    const max = Math.max(1, this.ctx.maxBatchSize);
    // Wait for records that can be handed out: places held for requests still being logged
    // are not (polling them at once would spin until the fsync ends).
    if (this.queue.ready === 0 && !this.ended()) {
      await wait(this.ctx.clock, Math.max(0, this.ctx.maxPollWaitMs), this.ctx.signal, this.arrived);
    }
    const taken = this.queue.take(max);
    if (taken.length > 0 && this.log) this.position = taken[taken.length - 1]!.end;
    const values = taken.map((q) => q.v);
    // After stop(), the stream ends once every accepted record has been handed out. The
    // log keeps them until the checkpoint that covers them completes (notifyCheckpointComplete).
    if (this.ended()) return { values, done: true };
    return { values };
  }

  private ended(): boolean {
    return this.ending && this.queue.size === 0;
  }

  stop(): void {
    this.ending = true;
    this.refuse();
  }

  /** New requests get 503 from now on; a waiting poll looks again. */
  private refuse(): void {
    this.accepting = false;
    this.arrived.wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    // Requests being logged are answered first (202 if their records reached the disk).
    await this.log?.close();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Requests still in flight were not accepted (nothing is queued until a body is
      // whole and valid): cutting them loses nothing that was answered 202.
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stats = this.stats;
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      stats.rejectedRequests++;
      return send(res, 400, { error: 'malformed request URL' });
    }
    if (pathname !== this.config.path) {
      stats.rejectedRequests++;
      return send(res, 404, { error: `not found: records go to POST ${this.config.path}` });
    }
    if (req.method !== 'POST') {
      stats.rejectedRequests++;
      return send(res, 405, { error: `method ${req.method ?? '?'} not allowed: use POST` }, { Allow: 'POST' });
    }
    if (!this.accepting) return this.unavailable(res);

    // The body's bytes are held in the queue from the moment they arrive, so that bodies
    // still arriving count against maxQueueBytes; they pass to its records when queued.
    let heldBytes = 0;
    let queued = false;
    const budget: ByteBudget = {
      take: (n) => {
        if (!this.queue.reserve(0, n)) return false;
        heldBytes += n;
        return true;
      },
    };
    try {
      const read = await readBody(req, this.config.maxBodyBytes, budget);
      if (!read.ok) {
        if (read.reason === 'aborted') return;
        if (read.reason === 'no-room') return this.throttled(res);
        stats.rejectedRequests++;
        return send(res, 413, { error: `body larger than ${this.config.maxBodyBytes} bytes` }, { Connection: 'close' });
      }
      const parsed = parseBody(req.headers['content-type'], read.body, this.config.utf8);
      if (!parsed.ok) {
        stats.rejectedRequests++;
        return send(res, parsed.status, parsed.answer);
      }

      const values: T[] = [];
      const problems: RecordProblem[] = [];
      for (const { value, place } of parsed.records) {
        if (!this.config.parse) {
          values.push(value as T);
          continue;
        }
        try {
          values.push(this.config.parse(value));
        } catch (error) {
          problems.push({ ...place, message: error instanceof Error ? error.message : String(error) });
        }
      }
      if (problems.length > 0) {
        stats.rejectedRequests++;
        return send(res, 400, { error: 'records failed validation: nothing was accepted', ...listed(problems) });
      }
      if (values.length > this.config.capacity) {
        stats.rejectedRequests++;
        return send(res, 413, { error: `${values.length} records in one request exceed the queue capacity of ${this.config.capacity}: split the request` });
      }
      if (!this.accepting) return this.unavailable(res);
      if (!this.queue.reserve(values.length)) return this.throttled(res);
      if (this.log) {
        queued = await this.acceptDurably(values, parsed.records.map((r) => r.value), heldBytes, res);
        return;
      }
      this.queue.fill(values.map((v) => ({ v, end: -1 })), heldBytes, true);
      queued = true;
      return this.accepted(res, values.length);
    } finally {
      if (!queued && heldBytes > 0) {
        this.queue.release(0, heldBytes);
        if (this.ending) this.arrived.wake();
      }
    }
  }

  /**
   * Durable mode, with the records' places held: write and fsync them to the log, then
   * queue them and answer 202. When the log cannot take them, answer 503 and give the
   * places back. Says whether they were queued.
   */
  private async acceptDurably(values: T[], raw: unknown[], bytes: number, res: ServerResponse): Promise<boolean> {
    const lines = raw.map((r) => JSON.stringify(r));
    let end: number;
    try {
      end = await this.log!.append(lines);
    } catch (error) {
      this.queue.release(values.length);
      if (this.ending) this.arrived.wake(); // a poll waiting for these records to end the stream looks again
      this.logFailed(res, error);
      return false;
    }
    // Offsets of each record: walk back from the end of the group.
    const ends = new Array<number>(lines.length);
    let at = end;
    for (let i = lines.length - 1; i >= 0; i--) {
      ends[i] = at;
      at -= Buffer.byteLength(lines[i]!) + 1;
    }
    this.queue.fill(
      values.map((v, i) => ({ v, end: ends[i]! })),
      bytes,
      true,
    );
    this.accepted(res, values.length);
    return true;
  }

  /** 503: the durable log could not take the records (none was accepted); Retry-After covers the log's backoff. */
  private logFailed(res: ServerResponse, error: unknown): void {
    this.stats.failedRequests++;
    const e = error instanceof SluiceError ? error : new SluiceError('INGEST_LOG_FAILED', 'the durable log could not be written: nothing was accepted', { cause: error });
    const retryAfter = Math.max(this.config.retryAfter, Math.ceil((this.log?.backoffRemainingMs() ?? 0) / 1000));
    send(
      res,
      503,
      { error: `the durable log could not take the records: nothing was accepted, retry later`, code: e.code, message: e.message.split('\n')[0], detail: e.detail, hint: e.hint },
      { 'Retry-After': String(retryAfter) },
    );
  }

  /** 429: the records, or their bytes, did not all fit; none was taken. */
  private throttled(res: ServerResponse): void {
    this.stats.throttledRequests++;
    send(
      res,
      429,
      {
        error: 'queue full: nothing was accepted, retry later',
        queued: this.queue.size,
        capacity: this.config.capacity,
        queuedBytes: this.queue.bytes,
        maxQueueBytes: this.config.maxQueueBytes,
      },
      { 'Retry-After': String(this.config.retryAfter) },
    );
  }

  /** 202: `n` records are queued (and, with a durable log, on disk). */
  private accepted(res: ServerResponse, n: number): void {
    this.stats.acceptedRequests++;
    this.stats.acceptedRecords += n;
    if (n > 0) this.arrived.wake();
    send(res, 202, { accepted: n });
  }

  private unavailable(res: ServerResponse): void {
    this.stats.unavailableRequests++;
    send(res, 503, { error: 'this source has stopped accepting records' }, { 'Retry-After': String(this.config.retryAfter), Connection: 'close' });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** `67108864` as `64 MiB`, for describe(). */
function bytesText(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}

function positiveInteger(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new SluiceError('INVALID_ARGUMENT', `httpSource: ${what} must be a positive integer, got ${String(n)}`);
  return n;
}

interface Deferred<V> {
  promise: Promise<V>;
  resolve(v: V): void;
  reject(e: unknown): void;
  readonly settled: boolean;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  let settled = false;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a failed listen is reported by open(); address() callers see it too
  return {
    promise,
    resolve: (v) => {
      settled = true;
      resolve(v);
    },
    reject: (e) => {
      settled = true;
      reject(e);
    },
    get settled() {
      return settled;
    },
  };
}
