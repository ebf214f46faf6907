import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors/index.js';

/** The REST API's error body: `{ error: { code, message, hint? } }`, the code from the catalog. */
export function error(code: ErrorCode, message: string, hint?: string): { error: Record<string, string> } {
  return { error: { code, message, ...(hint ? { hint } : {}) } };
}

/** Answers with a JSON body (`Infinity` written as the string `'Infinity'`). */
export function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v)), 'application/json; charset=utf-8');
}

/** Answers with a body of the given content type, never cached. */
export function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
