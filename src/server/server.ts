import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { SluiceError } from '../errors/index.js';
import { createHttpServer, serverTls, type ServerTlsOptions } from '../net/tls.js';
import type { JobMonitor } from '../observe/job-monitor.js';
import { AuditLog, type AuditEntry, type AuditOptions } from './audit-log.js';
import { AccessControl, type AuthOptions } from './auth/access-control.js';
import type { Principal } from './auth/principal.js';
import type { SubjectKeys } from '../privacy/subject-keys.js';
import { allowedHosts, isLoopback, refuse, type AllowedHosts } from './request-guard.js';
import { error, json } from './respond.js';
import { handleRequest } from './routes.js';

/** Where a job serves its REST API, metrics and dashboard. */
export interface ServerOptions {
  /** Default 8081; 0 picks a free port. When the port is taken, the next free one (up to 19 further) is used and logged. */
  port?: number;
  /**
   * The address to listen on. Default 127.0.0.1. Any address but loopback (`0.0.0.0`, a
   * LAN address) needs {@link auth} (tokens or a JWKS) or mutual TLS ({@link tls} with `ca`), or {@link insecure} for an open API.
   */
  host?: string;
  /**
   * Further names the server answers to in the `Host` header, beside the address it is
   * bound to (and 127.0.0.1, localhost and [::1] when bound to loopback or every interface),
   * such as `sluice.internal` behind a proxy: any other Host is answered 421, which stops
   * DNS rebinding (`--allowed-host`).
   */
  allowedHosts?: readonly string[];
  /**
   * Serve on an address other than loopback although the API has no authentication: anyone
   * who reaches it can savepoint, stop and cancel the job. Logged as a warning (`--insecure`).
   */
  insecure?: boolean;
  /**
   * Bearer tokens (a tokens file, a JWKS for JWTs), roles and attribute rules: see
   * {@link AuthOptions}. With it, every route but the dashboard's page, `/healthz`, `/readyz`
   * (and `/metrics` with `metricsOpen`) needs a token, and the server may bind beyond loopback.
   */
  auth?: AuthOptions;
  /**
   * The audit log of control actions (savepoint, stop, cancel…) and refused requests:
   * JSON lines under `.sluice/audit/` by default (see {@link AuditOptions}); `false` turns it off.
   */
  audit?: AuditOptions | false;
  /**
   * The job's subject keys (`encryptFields`): then `POST /jobs/:id/forget {"subject": "…"}`
   * (role operator, audited) deletes a subject's key, as `keys.forget(subject)` does.
   */
  privacy?: { keys: SubjectKeys };
  /** A connection that has not sent its request's headers by then is answered 408 and closed. Default 10 s. */
  headersTimeoutMs?: number;
  /** A request not received whole by then is answered 408 and closed (a response such as `/events` may stream longer). Default 30 s. */
  requestTimeoutMs?: number;
  /** Connections held at once; further ones are closed as they come, so a flood of idle sockets cannot take the process's file descriptors. Default 256. */
  maxConnections?: number;
  /**
   * Serve over HTTPS with this certificate and key (`--tls-cert`, `--tls-key`); with `ca`
   * too (`--tls-ca`), mutual TLS: a client without a certificate of one of those CAs is
   * refused during the handshake. Files are read when the job starts. Default: plain HTTP.
   */
  tls?: ServerTlsOptions;
}

/** Idle time between requests of a kept-alive connection before it is closed. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** A job's REST server once it listens (`StartedJob.server`). It closes by itself when the job ends. */
export interface JobServer {
  /** Its base URL, such as `http://127.0.0.1:8081`: the dashboard is there, the REST API under `/jobs`. */
  readonly url: string;
  /** The port it listens on: the one asked for, the next free one, or the one picked for port 0. */
  readonly port: number;
  /** Stops listening and closes open connections; resolves once the server is closed. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8081;
/** Ports tried after a taken one (`sluice list` scans the same range). */
export const PORT_RANGE = 20;

/**
 * Serves one job's REST API, `/metrics` and the dashboard over plain `node:http`. A
 * taken port is not fatal: the next free port is used and logged; when none is free the
 * job runs without a server, and the log says so. See `server.test.ts`.
 */
/**
 * Refuses a server bound beyond loopback without {@link ServerOptions.insecure}
 * (`INSECURE_BIND`). `Job.start` calls it before the job runs.
 */
export function checkServerOptions(options: ServerOptions): AccessControl {
  const host = options.host ?? '127.0.0.1';
  // Reads the tokens file and the policy now: a mistake in them fails the start, not a request later.
  const access = AccessControl.create(options.auth);
  // The certificate and key too: a missing file fails the start.
  if (options.tls !== undefined) serverTls(options.tls, 'server');
  // Mutual TLS authenticates clients too: only holders of a certificate of its CAs get in.
  if (isLoopback(host) || options.insecure === true || access.authenticates || options.tls?.ca !== undefined) return access;
  throw new SluiceError('INSECURE_BIND', `the REST API would listen on ${host}, beyond this machine, without authentication: anyone on the network could savepoint, stop and cancel the job`, {
    hint: 'Configure bearer tokens (--tokens-file or --jwks-url; server: { auth }), or serve on 127.0.0.1 (the default) behind an SSH tunnel or an authenticating proxy, or pass --insecure (server: { insecure: true }) to accept an open API.',
  });
}

export async function startServer(monitor: JobMonitor, options: ServerOptions, logger: Logger): Promise<JobServer | undefined> {
  const access = checkServerOptions(options);
  const host = options.host ?? '127.0.0.1';
  const hosts = allowedHosts(host, options.allowedHosts ?? []);
  const audit = options.audit === false ? undefined : new AuditLog(options.audit ?? {}, (e) => logger.error({ event: 'audit_sink_failed', err: (e as Error).message }, `the audit sink failed: ${(e as Error).message} (the entry is in the audit file)`));
  const secure = options.tls === undefined ? undefined : serverTls(options.tls, 'server');
  const scheme = secure ? 'https' : 'http';
  const first = options.port ?? DEFAULT_PORT;
  const last = first === 0 ? 0 : first + PORT_RANGE - 1;
  for (let port = first; port <= last; port++) {
    // Slow or idle clients (slow-loris) are closed at these limits: Node checks them every
    // 30 s by default, far too late, so the check runs at a quarter of the shorter one.
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
    const limits = { headersTimeout, requestTimeout, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: Math.max(50, Math.min(1_000, headersTimeout / 4)) };
    // Answers held until their audit entry is durable: closing waits for them (a cancel ends the job, which closes the server).
    const answering = new Set<Promise<unknown>>();
    const server = createHttpServer(limits, secure, (req, res) => {
      serve(monitor, req, res, hosts, access, audit, logger, answering, options.privacy?.keys, scheme).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(error('INTERNAL', (e as Error).message)));
      });
    });
    server.maxConnections = options.maxConnections ?? 256;
    const bound = await listen(server, port, host);
    if (bound === 'in-use') {
      logger.warn({ event: 'server_port_in_use', port }, `port ${port} on ${host} is taken; trying ${port + 1}`);
      continue;
    }
    if (bound instanceof Error) {
      logger.error({ event: 'server_failed', port, err: bound.message }, `could not serve on ${host}:${port} (${bound.message}); the job runs without its REST API and dashboard`);
      return undefined;
    }
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    if (access.authenticates) {
      logger.info({ event: 'server_started', url, access: 'authenticated' }, `dashboard and REST API on ${url} (metrics at ${url}/metrics${options.auth?.metricsOpen ? ', open' : ''}): bearer tokens required`);
    } else if (isLoopback(host)) {
      logger.info({ event: 'server_started', url, access: 'local' }, `dashboard and REST API on ${url} (metrics at ${url}/metrics): unauthenticated, local only (bound to loopback)`);
    } else {
      logger.info({ event: 'server_started', url, access: 'network' }, `dashboard and REST API on ${url} (metrics at ${url}/metrics)`);
      logger.warn(
        { event: 'server_insecure', url, allowedHosts: hosts.names },
        `the REST API on ${url} is open to the network without authentication (insecure): anyone who reaches it can savepoint, stop and cancel the job; it answers to the hosts ${hosts.names.join(', ')}${hosts.anyAddress ? ' and its IP addresses' : ''}`,
      );
    }
    return {
      url,
      port: bound,
      close: () =>
        Promise.race([Promise.allSettled([...answering]), new Promise((r) => setTimeout(r, 5_000).unref())])
          .then(
            () =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
              }),
          )
          .then(() => audit?.close()),
    };
  }
  logger.warn({ event: 'server_unavailable', from: first, to: last }, `ports ${first}-${last} on ${host} are all taken; the job runs without its REST API and dashboard`);
  return undefined;
}

/** Actions that only read: every other one is written to the audit log, whatever its result. */
const READS = new Set(['open', 'view', 'metrics']);

/**
 * One request through the checks, in order: the guard (Host, Origin, JSON content type),
 * authentication and authorisation, then the route. A refused request and every control
 * action are appended to the audit log before the answer is sent.
 */
async function serve(
  m: JobMonitor,
  req: IncomingMessage,
  res: ServerResponse,
  hosts: AllowedHosts,
  access: AccessControl,
  audit: AuditLog | undefined,
  logger: Logger,
  answering: Set<Promise<unknown>>,
  keys: SubjectKeys | undefined,
  scheme: 'http' | 'https',
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean);
  const entry = (principal: Principal | undefined, action: string, status: number, result: AuditEntry['result'], code?: string, rule?: string): AuditEntry => ({
    time: new Date().toISOString(),
    subject: principal?.subject ?? null,
    roles: principal?.roles ?? [],
    action,
    job: parts[0] === 'jobs' && parts[1] !== undefined ? safeDecode(parts[1]) : null,
    method: req.method ?? 'GET',
    path,
    address: req.socket.remoteAddress ?? null,
    result,
    status,
    ...(code === undefined ? {} : { code }),
    ...(rule === undefined ? {} : { rule }),
  });
  const record = async (e: AuditEntry) => {
    try {
      await audit?.append(e);
    } catch (err) {
      logger.error({ event: 'audit_failed', err: (err as Error).message, entry: e }, `could not append to the audit log: ${(err as Error).message}`);
    }
  };
  const refused = refuse(req, hosts, scheme);
  if (refused) {
    await record(entry(undefined, req.method === 'GET' ? 'view' : 'control', refused.status, 'refused', refused.code));
    // The body is not read: the connection closes after the answer.
    res.setHeader('connection', 'close');
    return json(res, refused.status, error(refused.code, refused.message));
  }
  const decision = await access.check(req, url, path, m.labels);
  if ('status' in decision) {
    await record(entry(decision.principal, decision.action, decision.status, 'refused', decision.code));
    res.setHeader('connection', 'close');
    if (decision.status === 401) res.setHeader('www-authenticate', 'Bearer realm="sluice"');
    return json(res, decision.status, error(decision.code, decision.message));
  }
  if (!READS.has(decision.action)) {
    // The entry is durable before the caller sees the answer: the route's end() waits for it.
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const ok = res.statusCode < 400;
      const answered = record(entry(decision.principal, decision.action, res.statusCode, ok ? 'ok' : 'failed', ok ? undefined : errorCodeOf(args[0]), decision.rule)).finally(() => {
        end(...args);
        answering.delete(answered);
      });
      answering.add(answered);
      return res;
    }) as ServerResponse['end'];
  }
  return handleRequest(m, req, res, decision.principal, keys);
}

/** The code of an error body (`{ error: { code } }`). */
function errorCodeOf(body: unknown): string | undefined {
  try {
    const code = (JSON.parse(String(body)) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function listen(server: Server, port: number, host: string): Promise<number | 'in-use' | Error> {
  return new Promise((resolve) => {
    const onError = (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? 'in-use' : e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      server.unref();
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
