import { createServer } from 'node:net';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/launch/job.js';
import { errorsJob, liveJob } from '../fixtures/jobs/observed-jobs.js';
import { promValue } from '../fixtures/prom.js';

let run: StartedJob;
let url: string;
const base = mkdtempSync(join(tmpdir(), 'sluice-server-'));

beforeAll(async () => {
  run = liveJob({ dir: join(base, 'checkpoints'), savepointDir: join(base, 'savepoints'), server: { port: 0 }, tracing: { sampleEvery: 5 } }).start();
  const server = await run.server;
  url = server!.url;
  await new Promise((r) => setTimeout(r, 1500)); // a few samples and checkpoints
});
afterAll(async () => {
  run.cancel();
  await run.done;
});

const get = async (path: string) => {
  const res = await fetch(url + path);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
  const body: any = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
};
const post = async (path: string, body?: unknown) => {
  const res = await fetch(url + path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
  const json: any = await res.json();
  return { status: res.status, body: json };
};

describe('REST API of a running job', () => {
  it('GET /healthz and /readyz', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { ready: true, status: 'running' } });
  });

  it('GET /metrics in the Prometheus text format, moving between scrapes', async () => {
    const a = await get('/metrics');
    expect(a.status).toBe(200);
    expect(a.type).toContain('text/plain');
    expect(a.body).toContain('# TYPE sluice_records_in_total counter');
    expect(a.body).toContain('# TYPE sluice_latency_seconds histogram');
    expect(a.body).toContain('sluice_process_cpu_seconds_total');
    const first = promValue(a.body as string, 'sluice_records_out_total', { step: 'clicks' })!;
    await new Promise((r) => setTimeout(r, 300));
    const second = promValue((await get('/metrics')).body as string, 'sluice_records_out_total', { step: 'clicks' })!;
    expect(second).toBeGreaterThan(first);
  });

  it('GET /jobs and /jobs/:id with the plan as tasks, steps and edges', async () => {
    const list = await get('/jobs');
    expect(list.body).toMatchObject([{ id: 'live', status: 'running' }]);
    const job = (await get('/jobs/live')).body;
    expect(job.status).toBe('running');
    expect(job.plan.tasks.map((t: { id: string }) => t.id)).toEqual(['clicks', 'views', 'union-1']);
    expect(job.plan.tasks[2].steps.map((s: { uid: string }) => s.uid)).toEqual(['union-1', 'per-user', 'counts']);
    expect(job.plan.edges).toContainEqual(expect.objectContaining({ fromTask: 'clicks', toTask: 'union-1', chained: false }));
    expect((await get('/jobs/nope')).status).toBe(404);
  });

  it('GET /jobs/:id/metrics per step, with rates and history', async () => {
    // Rates come from samples a second apart: on a loaded machine the first ones may predate the records.
    let m = (await get('/jobs/live/metrics?history=1')).body;
    for (let i = 0; i < 40 && !(m.rates?.clicks?.outPerSec > 0); i++) {
      await new Promise((r) => setTimeout(r, 250));
      m = (await get('/jobs/live/metrics?history=1')).body;
    }
    const sink = m.snapshot.steps.find((s: { uid: string }) => s.uid === 'counts');
    expect(sink.recordsIn).toBeGreaterThan(0);
    expect(sink.latencyMs.count).toBeGreaterThan(0);
    expect(m.rates.clicks.outPerSec).toBeGreaterThan(0);
    expect(m.taskRatios['union-1']).toBeDefined();
    expect(m.history.length).toBeGreaterThan(0);
  });

  it('GET /jobs/:id/checkpoints, /exceptions, /logs, /traces', async () => {
    const cps = (await get('/jobs/live/checkpoints')).body;
    expect(cps.counts.completed).toBeGreaterThan(0);
    expect(cps.history[0]).toMatchObject({ status: 'completed', kind: 'checkpoint' });
    expect((await get('/jobs/live/exceptions')).body).toEqual({ exceptions: [] });
    const logs = (await get('/jobs/live/logs?limit=50')).body;
    expect(logs.lines.map((l: { event: string }) => l.event)).toContain('job_started');
    expect(logs.lines.some((l: { event: string; checkpointId?: number }) => l.event === 'checkpoint_completed' && l.checkpointId! > 0)).toBe(true);
    expect(logs.lines.every((l: { job: string }) => l.job === 'live')).toBe(true);
    const traces = (await get('/jobs/live/traces')).body;
    expect(traces.enabled).toBe(true);
    // A sampled batch is followed from its source task into the union's task.
    const crossing = traces.traces.find((t: { spans: Array<{ attributes: { task: string } }> }) => t.spans.some((s) => s.attributes.task === 'union-1'));
    expect(crossing).toBeDefined();
    expect(crossing.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('GET /jobs/:id/events streams samples (SSE)', async () => {
    const res = await fetch(`${url}/jobs/live/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^event: sample\ndata: \{/);
    const data = JSON.parse(text.split('\n')[1]!.slice('data: '.length));
    expect(data.status).toBe('running');
    expect(data.snapshot.steps.map((s: { uid: string }) => s.uid)).toContain('per-user');
  });

  it('POST /jobs/:id/savepoints writes a savepoint', async () => {
    const r = await post('/jobs/live/savepoints', { path: 'sp-1' });
    expect(r.status).toBe(200);
    const path = join(base, 'savepoints', 'sp-1');
    expect(r.body.path).toBe(path);
    expect(existsSync(path)).toBe(true);
    expect((await post('/jobs/live/savepoints', 'not an object')).status).toBe(400);
  });

  it('GET / serves the dashboard', async () => {
    const r = await get('/');
    expect(r.type).toContain('text/html');
    expect(r.body).toContain('<svg id="graph"');
  });
});

describe('cancel over REST', () => {
  it('POST /jobs/:id/cancel with {savepoint: true} stops with a savepoint; /readyz then says 503', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cancel-'));
    const job = liveJob({ dir: join(dir, 'cp'), savepointDir: join(dir, 'savepoints'), server: { port: 0 } }).start();
    const { url: u } = (await job.server)!;
    await new Promise((r) => setTimeout(r, 800));
    const res = await fetch(`${u}/jobs/live/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savepoint: true, path: join(dir, 'savepoints', 'sp') }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { savepoint: { path: string } }).savepoint.path).toBe(join(dir, 'savepoints', 'sp'));
    expect(await job.done).toEqual({ status: 'cancelled' });
    expect(job.monitor.status).toBe('cancelled');
  });

  it('POST /jobs/:id/cancel without a savepoint', async () => {
    const job = liveJob({ dir: mkdtempSync(join(tmpdir(), 'sluice-cancel-')), server: { port: 0 } }).start();
    const { url: u } = (await job.server)!;
    const res = await fetch(`${u}/jobs/live/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(202);
    expect(await job.done).toEqual({ status: 'cancelled' });
  });

  it('a taken port: the next free one is used and logged', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)));
    const lines: string[] = [];
    const job = liveJob({ dir: mkdtempSync(join(tmpdir(), 'sluice-port-')), server: { port }, log: { level: 'info', destination: { write: (l) => lines.push(l) } } }).start();
    const server = (await job.server)!;
    expect(server.port).toBeGreaterThan(port);
    expect(lines.join('')).toContain(`port ${port} on 127.0.0.1 is taken`);
    job.cancel();
    await job.done;
    blocker.close();
  });

  it('exceptions: a failing job lists its failure', async () => {
    const { job } = errorsJob({ onError: 'fail' });
    const run = job.start();
    await expect(run.done).rejects.toThrow(/boom/);
    expect(run.monitor.exceptions[0]).toMatchObject({ kind: 'failure', code: 'USER_FUNCTION_FAILED', step: 'check' });
    expect(run.monitor.status).toBe('failed');
  });
});
