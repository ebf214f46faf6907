/**
 * A tiny Confluent-compatible schema registry over real HTTP, for the format and
 * connector tests: the endpoints `SchemaRegistryClient` uses (register a subject's
 * schema, fetch a schema by id, a subject's versions, the compatibility configuration),
 * ids from 1 in registration order. Registering checks Avro compatibility under the
 * subject's level (default BACKWARD) with avsc's resolver, and refuses with 409 and a
 * reason worded as the Confluent registry words it.
 *
 * Not a real registry: Apicurio Registry 3.3.3 from the Maven mirror was tried (issue 18,
 * item 2) and does not build here. `apicurio-registry-app` is a Quarkus application jar
 * (no `-runner` jar is published), so it needs a Quarkus build (`quarkus-maven-plugin`)
 * over it, and that build cannot resolve the app's own modules from the mirror
 * (`apicurio-registry-schema-util-provider` and `apicurio-registry-contracts-rules`
 * 3.3.3 are not served; 3.0.9's parent POM is not served either).
 */
import avro from 'avsc';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A running fake registry: its URL, the schemas by id (`schemas[id - 1]`), the requests it served, and `close`. */
export interface FakeRegistry {
  readonly url: string;
  readonly schemas: string[];
  /** Schema ids per subject, in version order (version = index + 1). */
  readonly subjects: Map<string, number[]>;
  /** Compatibility levels set per subject (PUT /config/{subject}). */
  readonly config: Map<string, string>;
  readonly hits: () => number;
  close(): Promise<void>;
}

/**
 * Starts a fake registry on a free port of 127.0.0.1: over HTTPS with `tls` (mutual with
 * `requestCert`), answering 401 to requests whose Authorization is not `authorization`.
 */
export async function startFakeRegistry(opts: { tls?: HttpsOptions; authorization?: string } = {}): Promise<FakeRegistry> {
  const schemas: string[] = [];
  const subjects = new Map<string, number[]>();
  const config = new Map<string, string>();
  let hits = 0;
  const handle: RequestListener = (req, res) => {
    hits++;
    if (opts.authorization !== undefined && req.headers.authorization !== opts.authorization) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(value));
      };
      const byId = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && byId) {
        const s = schemas[Number(byId[1]) - 1];
        return s ? reply(200, { schema: s }) : reply(404, { error_code: 40403, message: 'Schema not found' });
      }
      const url = (req.url ?? '').split('?')[0]!;
      const versionsOf = /^\/subjects\/([^/]+)\/versions$/.exec(url);
      const oneVersion = /^\/subjects\/([^/]+)\/versions\/(latest|\d+)$/.exec(url);
      const configOf = /^\/config\/([^/]+)$/.exec(url);
      if (req.method === 'POST' && versionsOf) {
        const subject = decodeURIComponent(versionsOf[1]!);
        const { schema, schemaType } = JSON.parse(body) as { schema: string; schemaType?: string };
        const ids = subjects.get(subject) ?? [];
        const known = ids.find((id) => schemas[id - 1] === schema);
        if (known !== undefined) return reply(200, { id: known });
        const level = config.get(subject) ?? 'BACKWARD';
        if ((schemaType ?? 'AVRO') === 'AVRO' && level !== 'NONE' && ids.length > 0) {
          const against = level.endsWith('_TRANSITIVE') ? ids : ids.slice(-1);
          const next = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
          const details: string[] = [];
          for (const id of against) {
            const old = avro.Type.forSchema(JSON.parse(schemas[id - 1]!) as avro.Schema);
            for (const [reader, writer, what] of [
              [next, old, 'BACKWARD'],
              [old, next, 'FORWARD'],
            ] as const) {
              if (!level.startsWith(what) && !level.startsWith('FULL')) continue;
              try {
                reader.createResolver(writer);
              } catch (e) {
                details.push(`{${what}: version ${ids.indexOf(id) + 1}: ${(e as Error).message}}`);
              }
            }
          }
          if (details.length > 0) {
            return reply(409, { error_code: 409, message: `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details.join(', ')}]` });
          }
        }
        let i = schemas.indexOf(schema);
        if (i < 0) i = schemas.push(schema) - 1;
        subjects.set(subject, [...ids, i + 1]);
        return reply(200, { id: i + 1 });
      }
      if (req.method === 'GET' && versionsOf) {
        const ids = subjects.get(decodeURIComponent(versionsOf[1]!));
        return ids ? reply(200, ids.map((_, i) => i + 1)) : reply(404, { error_code: 40401, message: 'Subject not found.' });
      }
      if (req.method === 'GET' && oneVersion) {
        const subject = decodeURIComponent(oneVersion[1]!);
        const ids = subjects.get(subject);
        if (!ids) return reply(404, { error_code: 40401, message: 'Subject not found.' });
        const version = oneVersion[2] === 'latest' ? ids.length : Number(oneVersion[2]);
        const id = ids[version - 1];
        return id === undefined ? reply(404, { error_code: 40402, message: 'Version not found.' }) : reply(200, { subject, version, id, schema: schemas[id - 1] });
      }
      if (req.method === 'GET' && url === '/subjects') return reply(200, [...subjects.keys()]);
      if (req.method === 'GET' && url === '/config') return reply(200, { compatibilityLevel: 'BACKWARD' });
      if (req.method === 'GET' && configOf) {
        const level = config.get(decodeURIComponent(configOf[1]!));
        return level ? reply(200, { compatibilityLevel: level }) : reply(404, { error_code: 40408, message: 'Subject does not have subject-level compatibility configured' });
      }
      if (req.method === 'PUT' && configOf) {
        const { compatibility } = JSON.parse(body) as { compatibility: string };
        config.set(decodeURIComponent(configOf[1]!), compatibility);
        return reply(200, { compatibility });
      }
      reply(404, { error_code: 404, message: 'not found' });
    });
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, handle) : createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    schemas,
    subjects,
    config,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
