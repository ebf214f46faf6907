import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../errors/index.js';
import { LAG_TIMEOUT_MS, type ClusterFiguresSource } from '../observe/cluster-figures.js';
import { dependencySnapshots } from '../observe/dependency-snapshot.js';
import type { JobMonitor } from '../observe/job-monitor.js';
import type { SubjectKeys } from '../privacy/subject-keys.js';
import type { Principal } from './auth/principal.js';
import { dashboardHtml } from './dashboard.js';
import { error, json, send } from './respond.js';
import { confineSavepointPath } from './savepoint-path.js';
import { streamEvents } from './sse.js';

/** A job in list form (`GET /jobs`, `sluice list`). */
export function jobSummary(m: JobMonitor): Record<string, unknown> {
  return {
    id: m.id,
    name: m.id,
    labels: m.labels,
    status: m.status,
    startedAt: m.startedAt,
    endedAt: m.endedAt ?? null,
    restarts: m.metrics.restarts,
    lastCheckpoint: m.running.checkpoints.filter((c) => c.status === 'completed').at(-1) ?? null,
  };
}

/**
 * The REST API of a job (JSON everywhere but `/`, `/metrics` and the SSE stream):
 *
 * - `GET /healthz` liveness (503 while a step is stuck: see `JobOptions.stuckAfter`),
 *   `GET /readyz` readiness (200 while the job runs and no step is stuck, else 503)
 * - `GET /metrics` Prometheus text format
 * - `GET /jobs`, `GET /jobs/:id` (status and plan; a cluster member's tasks, rebalances,
 *   restores and lag as `cluster`), `/jobs/:id/metrics` (`?history=1`),
 *   `/jobs/:id/checkpoints`, `/jobs/:id/exceptions`, `/jobs/:id/logs?limit=N`,
 *   `/jobs/:id/traces`, `/jobs/:id/events` (server-sent events, one sample a second)
 * - `POST /jobs/:id/savepoints` `{path?}`, `POST /jobs/:id/cancel` `{savepoint?, path?}`
 *   (a `path` must lie in the job's savepoint directory: `savepoint-path.ts`),
 *   `POST /jobs/:id/stop`, `POST /jobs/:id/forget` `{subject}` (with `server.privacy.keys`)
 *
 * Requests reach it past `request-guard.ts` (Host, Origin, JSON content type) and
 * `auth/access-control.ts` (bearer token, role, policy), which `server.ts` applies in that order.
 */
export async function handleRequest(m: JobMonitor, req: IncomingMessage, res: ServerResponse, _principal?: Principal, keys?: SubjectKeys): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);

  if (method === 'GET' && path === '/') return send(res, 200, dashboardHtml(), 'text/html; charset=utf-8');
  // A stuck step fails both (an orchestrator then restarts the process). While one is stuck
  // on the main thread this server cannot answer at all, which fails a liveness probe too.
  // A full disk (checkpoint storage, on-disk state) degrades the job: it keeps running or
  // restarting, so liveness holds, but it is not ready (its output waits for a checkpoint).
  if (method === 'GET' && path === '/healthz') {
    if (!m.healthy) return json(res, 503, { status: 'stuck', stuck: m.running.stuck });
    const storage = m.degraded;
    return json(res, 200, storage ? { status: 'degraded', reason: storage } : { status: 'ok' });
  }
  if (method === 'GET' && path === '/readyz') {
    const storage = m.degraded;
    const ready = m.status === 'running' && m.healthy && storage === undefined;
    return json(res, ready ? 200 : 503, { ready, status: !m.healthy ? 'stuck' : storage ? 'degraded' : m.status, ...(storage ? { reason: storage } : {}) });
  }
  if (method === 'GET' && path === '/metrics') return send(res, 200, await m.registry.metrics(), m.registry.contentType);
  if (parts[0] !== 'jobs') return json(res, 404, error('NOT_FOUND', `no route ${method} ${path}`));
  if (parts.length === 1 && method === 'GET') return json(res, 200, [jobSummary(m)]);
  if (parts[1] !== m.id) return json(res, 404, error('NOT_FOUND', `no job '${parts[1]}' here (this server runs '${m.id}')`));
  const sub = parts[2];

  if (method === 'GET') {
    switch (sub) {
      case undefined: {
        const cluster = m.metrics.cluster;
        const dependencies = dependencySnapshots();
        return json(res, 200, { ...jobSummary(m), metricsEnabled: m.counting, plan: m.plan, dependencies, ...(cluster ? { cluster: await clusterJson(cluster) } : {}) });
      }
      case 'metrics': {
        const latest = m.sampler.latest();
        return json(res, 200, url.searchParams.has('history') ? { ...latest, history: m.sampler.history().map(compact) } : latest);
      }
      case 'checkpoints': {
        const history = m.running.checkpoints;
        const completed = history.filter((c) => c.status === 'completed').length;
        return json(res, 200, { counts: { completed, failed: history.length - completed }, restoredFrom: m.running.restoredFrom ?? null, history: [...history].reverse() });
      }
      case 'exceptions':
        return json(res, 200, { exceptions: [...m.exceptions].reverse() });
      case 'logs':
        return json(res, 200, { lines: m.log.recent(Number(url.searchParams.get('limit') ?? 100) || 100) });
      case 'traces':
        return json(res, 200, { enabled: m.metrics.tracer !== undefined, traces: m.metrics.tracer?.traces() ?? [] });
      case 'events':
        return streamEvents(m, req, res);
    }
  }
  if (method === 'POST' && sub === 'stop') {
    if (m.status !== 'running' && m.status !== 'restarting') return json(res, 409, error('JOB_NOT_RUNNING', `job '${m.id}' is ${m.status}`));
    m.stop();
    return json(res, 202, { status: 'stopping' });
  }
  if (method === 'POST' && sub === 'forget') {
    if (keys === undefined) return json(res, 404, error('NOT_FOUND', `job '${m.id}' has no subject keys to forget (server: { privacy: { keys } })`));
    const body = await readJson(req);
    if (body instanceof Error) return json(res, 400, error('INVALID_ARGUMENT', body.message));
    if (typeof body.subject !== 'string' || body.subject === '') return json(res, 400, error('INVALID_ARGUMENT', 'forget needs {"subject": "<subject>"}'));
    // The subject is personal data: the answer and the audit entry do not repeat it.
    return json(res, 200, { forgotten: await keys.forget(body.subject) });
  }
  if (method === 'POST' && (sub === 'savepoints' || sub === 'cancel')) {
    const body = await readJson(req);
    if (body instanceof Error) return json(res, 400, error('INVALID_ARGUMENT', body.message));
    let path: string | undefined;
    try {
      if (body.path !== undefined && body.path !== null && body.path !== '') {
        if (typeof body.path !== 'string') return json(res, 400, error('INVALID_ARGUMENT', `path must be a string, got ${typeof body.path}`));
        path = await confineSavepointPath(body.path, m.dirs);
      }
    } catch (e) {
      if (e instanceof SluiceError) return json(res, 400, error(e.code, e.message, e.hint));
      throw e;
    }
    try {
      if (sub === 'savepoints') {
        const h = await m.savepoint(path);
        return json(res, 200, { path: h.path, checkpointId: h.checkpointId, sizeBytes: h.sizeBytes });
      }
      if (body.savepoint === true) {
        const h = await m.savepoint(path, true);
        return json(res, 200, { status: 'cancelling', savepoint: { path: h.path, checkpointId: h.checkpointId, sizeBytes: h.sizeBytes } });
      }
      if (m.status === 'finished' || m.status === 'failed' || m.status === 'cancelled') {
        return json(res, 409, error('JOB_NOT_RUNNING', `job '${m.id}' is ${m.status}`));
      }
      m.cancel();
      return json(res, 202, { status: 'cancelling' });
    } catch (e) {
      if (e instanceof SluiceError) return json(res, e.domain === 'user' ? 409 : 500, error(e.code, e.message.split('\n')[0]!, e.hint));
      throw e;
    }
  }
  return json(res, 404, error('NOT_FOUND', `no route ${method} ${path}`));
}

/**
 * A cluster member's share of its cluster (`GET /jobs/:id` of a member): the figures of its
 * `sluice_cluster_*` metrics, `member` null until it has joined, `lag` empty when the
 * brokers did not answer in time.
 */
async function clusterJson(c: ClusterFiguresSource): Promise<Record<string, unknown>> {
  const f = c.figures();
  if (f === undefined) return { name: c.cluster, member: null };
  return { name: c.cluster, ...f, lastRebalanceMs: f.lastRebalanceMs ?? null, lag: await c.lag(LAG_TIMEOUT_MS) };
}

/** A sample without its full snapshot (history for charts). */
function compact(s: ReturnType<JobMonitor['sampler']['latest']>): Record<string, unknown> {
  const latency: Record<string, number> = {};
  for (const st of s.snapshot.steps) if (st.latencyMs) latency[st.uid] = st.latencyMs.p99;
  return { time: s.time, rates: s.rates, taskRatios: s.taskRatios, latencyP99Ms: latency };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | Error> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65536) return new Error('request body too large');
  }
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : new Error('the body must be a JSON object');
  } catch (e) {
    return new Error(`the body is not JSON: ${(e as Error).message}`);
  }
}
