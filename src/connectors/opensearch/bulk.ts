/** The statuses a bulk item or request is retried on: too many requests (a full write queue), unavailable. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** A request that failed: its HTTP status (none when there was no answer) and whether another try may help. */
export class OpenSearchRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** One action of a bulk request: index (upsert) a document under its id, or delete it. */
export interface BulkAction {
  readonly index: string;
  readonly id: string;
  /** The document, as JSON text; absent for a delete. */
  readonly source?: string;
}

/** The items of a bulk request that failed: to retry, and the first that will not succeed again. */
export interface BulkOutcome {
  readonly retry: BulkAction[];
  readonly failed?: { action: BulkAction; status: number; reason: string };
}

interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string };
}

/** The HTTP calls of the OpenSearch sink, over fetch: `_bulk`, index listing and deletion. */
export class OpenSearchHttp {
  private readonly headers: Record<string, string>;

  constructor(
    private readonly base: string,
    private readonly timeoutMs: number,
    auth: { username: string; password: string } | undefined,
  ) {
    this.headers = auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
  }

  /**
   * Sends actions as one `_bulk` request and sorts out its items: a delete of a missing
   * document is fine (404), a 429/503 item is to retry, any other failure is final.
   */
  async bulk(actions: readonly BulkAction[]): Promise<BulkOutcome> {
    let body = '';
    for (const a of actions) {
      body += a.source === undefined ? `{"delete":{"_index":${JSON.stringify(a.index)},"_id":${JSON.stringify(a.id)}}}\n` : `{"index":{"_index":${JSON.stringify(a.index)},"_id":${JSON.stringify(a.id)}}}\n${a.source}\n`;
    }
    const res = await this.request('/_bulk', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
    if (res.status !== 200) throw await this.refused(res, '_bulk');
    const json = (await res.json()) as { errors?: boolean; items?: Array<Record<string, BulkItem>> };
    if (!json.errors) return { retry: [] };
    const retry: BulkAction[] = [];
    let failed: BulkOutcome['failed'];
    json.items?.forEach((item, i) => {
      const r = item['index'] ?? item['delete'];
      if (!r || r.status < 300 || (item['delete'] && r.status === 404)) return;
      if (RETRYABLE.has(r.status)) retry.push(actions[i]!);
      else failed ??= { action: actions[i]!, status: r.status, reason: `${r.error?.type ?? 'error'}: ${r.error?.reason ?? ''}` };
    });
    return { retry, failed };
  }

  /** Names of the indices matching a pattern (`logs-*`). */
  async indices(pattern: string): Promise<string[]> {
    const res = await this.request(`/_cat/indices/${encodeURIComponent(pattern)}?format=json&h=index&expand_wildcards=open,closed`, { method: 'GET' });
    if (res.status === 404) return [];
    if (res.status !== 200) throw await this.refused(res, `listing ${pattern}`);
    return ((await res.json()) as Array<{ index: string }>).map((r) => r.index);
  }

  /** Deletes an index (gone already is fine). */
  async deleteIndex(index: string): Promise<void> {
    const res = await this.request(`/${encodeURIComponent(index)}`, { method: 'DELETE' });
    if (res.status !== 200 && res.status !== 404) throw await this.refused(res, `deleting ${index}`);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      // No answer (refused, reset, timed out): the server may be restarting, so worth another try.
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new OpenSearchRequestError(`no answer from ${this.base}: ${cause ?? (e as Error).message}`, undefined, true);
    }
  }

  private async refused(res: Response, what: string): Promise<OpenSearchRequestError> {
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      const e = (JSON.parse(text) as { error?: { reason?: string } | string }).error;
      message = typeof e === 'string' ? e : (e?.reason ?? text);
    } catch {}
    return new OpenSearchRequestError(`${what}: HTTP ${res.status}: ${message.trim().slice(0, 500)}`, res.status, RETRYABLE.has(res.status));
  }
}
