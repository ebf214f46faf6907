import type { InfluxPrecision } from './line-protocol.js';

/** The statuses a write is retried on: too many requests, and busy (InfluxDB answers 503 when its write queue or hinted handoff is full). */
export const RETRYABLE_STATUS = new Set([429, 503]);

/** A failed request: the HTTP status (none when it could not connect), whether to retry, and the server's `Retry-After`. */
export class InfluxRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

interface QueryResponse {
  results?: Array<{ error?: string; series?: Array<{ values?: unknown[][] }> }>;
  error?: string;
}

/** The two endpoints of InfluxDB 1.x the sink uses: `/write` (line protocol) and `/query` (InfluxQL), over fetch. */
export class InfluxHttp {
  private readonly auth: Record<string, string>;

  constructor(
    private readonly base: string,
    private readonly timeoutMs: number,
    username?: string,
    password?: string,
  ) {
    this.auth = username !== undefined ? { u: username, p: password ?? '' } : {};
  }

  async write(db: string, rp: string | undefined, precision: InfluxPrecision, body: string): Promise<void> {
    const params = new URLSearchParams({ db, precision, ...this.auth, ...(rp !== undefined ? { rp } : {}) });
    const res = await this.request(`/write?${params}`, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    if (res.status !== 204) throw await this.refused(res);
  }

  async query(q: string): Promise<QueryResponse> {
    const res = await this.request('/query', { method: 'POST', body: new URLSearchParams({ q, ...this.auth }) });
    if (res.status !== 200) throw await this.refused(res);
    const json = (await res.json()) as QueryResponse;
    const error = json.error ?? json.results?.find((r) => r.error)?.error;
    if (error) throw new InfluxRequestError(`${q}: ${error}`, res.status, false, undefined);
    return json;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      // No answer (refused, reset, timed out): the server may be restarting, so worth another try.
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new InfluxRequestError(`no answer from ${this.base}: ${cause ?? (e as Error).message}`, undefined, true, undefined);
    }
  }

  private async refused(res: Response): Promise<InfluxRequestError> {
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    const after = Number(res.headers.get('retry-after'));
    return new InfluxRequestError(`HTTP ${res.status}: ${message.trim().slice(0, 500)}`, res.status, RETRYABLE_STATUS.has(res.status), Number.isFinite(after) && after > 0 ? after * 1000 : undefined);
  }
}
