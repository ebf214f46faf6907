import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { checkTlsOptions, clientTls, tlsFailure, type TlsOptions } from '../net/tls.js';
import { SluiceError } from '../errors/index.js';
import { resolveSecret, type Secret } from '../errors/secret.js';

/** Where a {@link SchemaRegistryClient} finds the registry, and how it authenticates. */
export interface SchemaRegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  /** Extra headers (authorization). */
  headers?: Record<string, string>;
  /** How long one request may take, answer included, before it fails (default 10 000 ms): a registry that hangs must not hang the job. */
  timeoutMs?: number;
  /**
   * TLS for an `https://` registry: the CA to trust instead of the system's, a client
   * certificate and key for mutual TLS. A handshake that fails is CONNECTOR_TLS.
   */
  tls?: TlsOptions;
  /**
   * Authentication: HTTP basic (`{ username, password }`, as Confluent's
   * `basic.auth.user.info`) or a bearer token (`{ token }`). Secrets may be references
   * (`{ env }`, `{ file }`), read at the first request. A 401 or 403 answer is CONNECTOR_AUTH.
   */
  auth?: { username: Secret; password: Secret } | { token: Secret };
}

/** A compatibility level of the Confluent Schema Registry. */
export type CompatibilityLevel = 'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

/** A schema as the registry holds it under a subject. */
export interface RegisteredSchema {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
  readonly schemaType: 'AVRO' | 'PROTOBUF' | 'JSON';
}

/** The registry's own words in a failed answer (`{"error_code":…,"message":…}`), or the answer as it came. */
function registryReason(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string' && m) return m;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 500);
}

/** A registry request answered with an error status: the status and the registry's reason, kept for callers that tell them apart. */
class RegistryRequestError extends SluiceError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    detail: string,
  ) {
    super('SOURCE_FAILED', message, { detail });
  }
}

/**
 * A client of a Confluent-compatible schema registry, with caches: an id's schema is
 * fetched once (`GET /schemas/ids/{id}`), a subject's schema is registered once per
 * schema text (`POST /subjects/{subject}/versions`, which returns the existing id when
 * the schema is already registered). Concurrent requests for one id share a fetch.
 *
 * @example
 * const registry = new SchemaRegistryClient({ url: 'http://127.0.0.1:8081' });
 * const id = await registry.register('orders-value', JSON.stringify(schema));
 */
export class SchemaRegistryClient {
  private readonly base: string;
  private readonly byId = new Map<number, Promise<string>>();
  private readonly idBySubjectSchema = new Map<string, Promise<number>>();
  /** How many HTTP requests this client made (cache misses). */
  requests = 0;
  /** The TLS options and Authorization header, read at the first request. */
  private connection: Promise<{ tls: ConnectionOptions | undefined; authorization: string | undefined }> | undefined;

  constructor(private readonly opts: SchemaRegistryOptions) {
    if (typeof opts?.url !== 'string' || !/^https?:\/\//.test(opts.url)) {
      throw new SluiceError('INVALID_ARGUMENT', `SchemaRegistryClient: url must be an http(s) URL, got ${JSON.stringify(opts?.url)}`);
    }
    this.base = opts.url.replace(/\/+$/, '');
    checkTlsOptions(opts.tls, 'SchemaRegistryClient');
    const auth = opts.auth as { username?: unknown; password?: unknown; token?: unknown } | undefined;
    if (auth !== undefined && !(auth.token !== undefined || (auth.username !== undefined && auth.password !== undefined))) {
      throw new SluiceError('INVALID_ARGUMENT', 'SchemaRegistryClient: auth must be { username, password } or { token }');
    }
  }

  /** The registry's base URL (without a trailing slash). */
  get url(): string {
    return this.base;
  }

  /** The schema text registered under `id`. */
  schemaById(id: number): Promise<string> {
    let p = this.byId.get(id);
    if (!p) {
      p = this.request<{ schema: string }>('GET', `/schemas/ids/${id}`).then((r) => r.schema);
      p.catch(() => this.byId.delete(id)); // a failure is not cached
      this.byId.set(id, p);
    }
    return p;
  }

  /** The schema text registered under `id`, if it was fetched or is being fetched already (no request). */
  cachedSchemaById(id: number): Promise<string> | undefined {
    return this.byId.get(id);
  }

  /**
   * Registers `schema` (its text) under `subject` (or finds it registered) and returns its
   * id. `schemaType` is the registry's name of the schema language (Avro when omitted).
   */
  register(subject: string, schema: string, schemaType: 'AVRO' | 'PROTOBUF' | 'JSON' = 'AVRO'): Promise<number> {
    const key = `${subject}\u0000${schemaType}\u0000${schema}`;
    let p = this.idBySubjectSchema.get(key);
    if (!p) {
      const body = schemaType === 'AVRO' ? { schema } : { schema, schemaType };
      p = this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body).then(
        (r) => {
          this.byId.set(r.id, Promise.resolve(schema));
          return r.id;
        },
        (e: unknown) => {
          // 409: the registry refuses the schema under the subject's compatibility level; its reason says why.
          if (e instanceof RegistryRequestError && e.status === 409) {
            throw new SluiceError('SCHEMA_INCOMPATIBLE', `schema registry ${this.base} refused to register the schema under '${subject}': ${e.reason}`, {
              hint: `Change the schema so that it is compatible with the subject's latest versions (defaults on new fields, no removed fields without defaults), or change the subject's compatibility level; \`sluice schema check\` shows the report.`,
              cause: e,
            });
          }
          throw e;
        },
      );
      p.catch(() => this.idBySubjectSchema.delete(key));
      this.idBySubjectSchema.set(key, p);
    }
    return p;
  }

  /** The latest version registered under `subject`, or undefined when the subject has none. */
  async latest(subject: string): Promise<RegisteredSchema | undefined> {
    return this.version(subject, 'latest');
  }

  /** Version `version` of `subject` (a number or 'latest'), or undefined when there is none. */
  async version(subject: string, version: number | 'latest'): Promise<RegisteredSchema | undefined> {
    const r = await this.request<RegisteredSchema & { schemaType?: RegisteredSchema['schemaType'] }>('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`, undefined, true);
    return r === undefined ? undefined : { ...r, schemaType: r.schemaType ?? 'AVRO' };
  }

  /** The version numbers registered under `subject`, oldest first (none for an unknown subject). */
  async versions(subject: string): Promise<number[]> {
    return (await this.request<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions`, undefined, true)) ?? [];
  }

  /** The subject's compatibility level, or the registry's global one when the subject has none set. */
  async compatibilityLevel(subject: string): Promise<CompatibilityLevel> {
    const own = await this.request<{ compatibilityLevel?: string; compatibility?: string }>('GET', `/config/${encodeURIComponent(subject)}`, undefined, true);
    const global = own ? undefined : await this.request<{ compatibilityLevel?: string; compatibility?: string }>('GET', '/config');
    const r = own ?? global!;
    return (r.compatibilityLevel ?? r.compatibility ?? 'BACKWARD') as CompatibilityLevel;
  }

  private async request<R>(method: string, path: string, body: unknown, notFoundIsUndefined: true): Promise<R | undefined>;
  private async request<R>(method: string, path: string, body?: unknown): Promise<R>;
  private async request<R>(method: string, path: string, body?: unknown, notFoundIsUndefined = false): Promise<R | undefined> {
    this.requests++;
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const { tls, authorization } = await (this.connection ??= this.connect());
    let res: { status: number; text: string };
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      res = await send(this.base + path, {
        method,
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(authorization === undefined ? {} : { authorization }),
          ...this.opts.headers,
        },
        signal,
        ...tls,
      }, body === undefined ? undefined : JSON.stringify(body));
    } catch (e) {
      const failure = tlsFailure(e, 'schema registry client', this.base);
      if (failure) throw failure;
      const why = signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message;
      throw new SluiceError('SOURCE_FAILED', `schema registry ${this.base}: ${method} ${path} failed: ${why}`, { cause: e });
    }
    const text = res.text;
    if (res.status === 404 && notFoundIsUndefined) return undefined;
    if (res.status === 401 || res.status === 403) {
      throw new SluiceError('CONNECTOR_AUTH', `schema registry ${this.base}: ${method} ${path} answered ${res.status}: ${this.opts.auth ? 'the registry refused the credentials of the auth option' : 'the registry wants credentials (the auth option)'}`, { detail: text.slice(0, 500) });
    }
    if (res.status < 200 || res.status > 299) {
      throw new RegistryRequestError(res.status, registryReason(text), `schema registry ${this.base}: ${method} ${path} answered ${res.status}`, text.slice(0, 500));
    }
    return JSON.parse(text) as R;
  }

  private async connect(): Promise<{ tls: ConnectionOptions | undefined; authorization: string | undefined }> {
    const where = `schema registry ${this.base}`;
    const tls = clientTls(this.opts.tls, where);
    const auth = this.opts.auth;
    if (auth === undefined) return { tls, authorization: undefined };
    if ('token' in auth) return { tls, authorization: `Bearer ${await resolveSecret(auth.token, `${where} auth.token`)}` };
    const [user, password] = await Promise.all([resolveSecret(auth.username, `${where} auth.username`), resolveSecret(auth.password, `${where} auth.password`)]);
    return { tls, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }
}

/** One HTTP(S) request over `node:http(s)` (fetch takes no CA or client certificate): its status and body text. */
function send(url: string, options: Parameters<typeof httpsRequest>[1], body: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
