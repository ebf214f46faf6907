/**
 * A tiny Confluent-compatible schema registry over real HTTP, for the format and
 * connector tests: the two endpoints `SchemaRegistryClient` uses (register a subject's
 * schema, fetch a schema by id), ids from 1 in registration order.
 *
 * Not a real registry: Apicurio Registry 3.3.3 from the Maven mirror was tried (issue 18,
 * item 2) and does not build here. `apicurio-registry-app` is a Quarkus application jar
 * (no `-runner` jar is published), so it needs a Quarkus build (`quarkus-maven-plugin`)
 * over it, and that build cannot resolve the app's own modules from the mirror
 * (`apicurio-registry-schema-util-provider` and `apicurio-registry-contracts-rules`
 * 3.3.3 are not served; 3.0.9's parent POM is not served either).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running fake registry: its URL, the schemas by id (`schemas[id - 1]`), the requests it served, and `close`. */
export interface FakeRegistry {
  readonly url: string;
  readonly schemas: string[];
  readonly hits: () => number;
  close(): Promise<void>;
}

/** Starts a fake registry on a free port of 127.0.0.1. */
export async function startFakeRegistry(): Promise<FakeRegistry> {
  const schemas: string[] = [];
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
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
      if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(req.url ?? '')) {
        const { schema } = JSON.parse(body) as { schema: string };
        let i = schemas.indexOf(schema);
        if (i < 0) i = schemas.push(schema) - 1;
        return reply(200, { id: i + 1 });
      }
      reply(404, { error_code: 404, message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    schemas,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
