import { readFileSync } from 'node:fs';
import { ERROR_CATALOG, SluiceError, type ErrorCode } from '../errors/index.js';
import { DEFAULT_PORT, PORT_RANGE } from '../server/server.js';

/** A job as a server lists it (`GET /jobs`). */
export interface RemoteJob {
  readonly url: string;
  readonly id: string;
  readonly status: string;
  readonly startedAt: number;
  readonly restarts: number;
  readonly lastCheckpoint: { checkpointId: number; triggeredAt: number } | null;
}

/** Where the CLI's bearer token comes from: `--token`, `--token-file`, else `SLUICE_TOKEN`, else `SLUICE_TOKEN_FILE`. */
export interface TokenSource {
  token?: string | undefined;
  tokenFile?: string | undefined;
}

let given: TokenSource = {};

/** Sets the token of this CLI run (`remoteCommand` does, from `--token` / `--token-file`). */
export function useToken(source: TokenSource): void {
  given = source;
}

/** The bearer token to send, if any (a file's content is trimmed: a trailing newline is not part of the token). */
export function clientToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (given.token) return given.token;
  const file = given.tokenFile ?? (env.SLUICE_TOKEN ? undefined : env.SLUICE_TOKEN_FILE);
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new SluiceError('UNAUTHENTICATED', `cannot read the token file ${file}: ${(e as Error).message}`);
    }
  }
  return env.SLUICE_TOKEN || undefined;
}

function authHeader(): Record<string, string> {
  const token = clientToken();
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** Servers that answered 401/403 to the last scan, for a message that says why no job was found. */
let refusedBy: string[] = [];

/** The servers to ask: the one given, else 127.0.0.1:8081 and the ports after it (where `sluice run` looks for a free one). */
export function candidateUrls(url?: string): string[] {
  if (url) return [url.replace(/\/+$/, '')];
  return Array.from({ length: PORT_RANGE }, (_, i) => `http://127.0.0.1:${DEFAULT_PORT + i}`);
}

/** Every job answering on the candidate servers (each asked with a short timeout, all at once). */
export async function findJobs(url?: string): Promise<RemoteJob[]> {
  const headers = authHeader();
  refusedBy = [];
  const lists = await Promise.all(
    candidateUrls(url).map(async (base) => {
      try {
        const res = await fetch(`${base}/jobs`, { headers, signal: AbortSignal.timeout(url ? 5000 : 700) });
        if (res.status === 401 || res.status === 403) {
          const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
          refusedBy.push(`${base} (${res.status}: ${body.error?.message ?? 'refused'})`);
          if (url) throw new SluiceError(res.status === 401 ? 'UNAUTHENTICATED' : 'ACCESS_DENIED', `the server at ${base} refused to list its jobs: ${body.error?.message ?? res.status}`);
          return [];
        }
        if (!res.ok) return [];
        const jobs = (await res.json()) as Array<Omit<RemoteJob, 'url'>>;
        return Array.isArray(jobs) ? jobs.map((j) => ({ ...j, url: base })) : [];
      } catch (e) {
        if (e instanceof SluiceError) throw e;
        if (url) throw new SluiceError('SERVER_UNAVAILABLE', `no Sluice server answered at ${base}: ${(e as Error).message}`);
        return [];
      }
    }),
  );
  return lists.flat();
}

/** The job a command is about: the one named, or the only one running. */
export async function resolveJob(name: string | undefined, url: string | undefined): Promise<RemoteJob> {
  const jobs = await findJobs(url);
  const where = url ?? `127.0.0.1:${DEFAULT_PORT}-${DEFAULT_PORT + PORT_RANGE - 1}`;
  if (name !== undefined) {
    const job = jobs.find((j) => j.id === name);
    if (!job) throw new SluiceError('SERVER_UNAVAILABLE', `no job '${name}' answers on ${where}${jobs.length ? ` (found: ${jobs.map((j) => j.id).join(', ')})` : ''}`);
    return job;
  }
  if (jobs.length === 0 && refusedBy.length > 0) {
    throw new SluiceError('UNAUTHENTICATED', `no job answers on ${where} without a valid token; refused by ${refusedBy.join(', ')}`);
  }
  if (jobs.length === 0) throw new SluiceError('SERVER_UNAVAILABLE', `no running job answers on ${where}`);
  if (jobs.length > 1) {
    throw new SluiceError('SERVER_UNAVAILABLE', `${jobs.length} jobs answer (${jobs.map((j) => `${j.id} at ${j.url}`).join(', ')}); name one`, {
      hint: 'Pass the job name, e.g. `sluice status <job>`, or --url.',
    });
  }
  return jobs[0]!;
}

/** Calls the job's REST API (a POST always with a JSON body); a non-2xx answer becomes a SluiceError with the server's message. */
export async function call<T>(job: RemoteJob, path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }): Promise<T> {
  const method = init?.method ?? 'GET';
  // The server takes a state-changing request only as JSON (a cross-site form post is not): `{}` when there is nothing to say.
  const payload = method === 'GET' ? undefined : JSON.stringify(init?.body ?? {});
  const res = await fetch(`${job.url}/jobs/${encodeURIComponent(job.id)}${path}`, {
    method,
    body: payload,
    headers: { ...authHeader(), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    signal: AbortSignal.timeout(init?.timeoutMs ?? 10_000),
  });
  const body = (await res.json()) as T & { error?: { code: string; message: string; hint?: string } };
  if (!res.ok) {
    const message = `job '${job.id}' at ${job.url} answered ${res.status}: ${body.error?.message ?? 'no message'}`;
    // A request the job refused (a savepoint path outside its directory, say) keeps the server's code and hint.
    const code = body.error?.code;
    if (res.status < 500 && code !== undefined && code !== 'NOT_FOUND' && Object.hasOwn(ERROR_CATALOG, code)) {
      throw new SluiceError(code as ErrorCode, message, body.error?.hint === undefined ? {} : { hint: body.error.hint });
    }
    throw new SluiceError('SERVER_UNAVAILABLE', message);
  }
  return body;
}
