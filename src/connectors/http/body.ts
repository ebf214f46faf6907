import type { IncomingMessage } from 'node:http';
import { jsonErrorOffset, lineAndColumn } from './json-error-offset.js';

/** A request body that was read whole, or why it was not. */
export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; reason: 'too-large' }
  | { ok: false; reason: 'no-room' }
  | { ok: false; reason: 'aborted' };

/** Where a body's bytes are held while it arrives: `take` says whether `n` more fit. */
export interface ByteBudget {
  take(n: number): boolean;
}

/**
 * Reads a request body up to `limit` bytes, holding its bytes in `budget` as they come
 * (all of a declared Content-Length at once), so that bodies still arriving count against
 * the queue's byte bound too. A body over the limit, or for which the budget has no room,
 * is not kept: the rest is read and discarded so that the client, still sending, receives
 * the answer (413, 429) instead of a reset connection. The caller gives back what the
 * budget took.
 */
export function readBody(req: IncomingMessage, limit: number, budget: ByteBudget = { take: () => true }): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    let held = 0;
    const refuse = (reason: 'too-large' | 'no-room'): void => {
      req.resume(); // discard the rest
      resolve({ ok: false, reason });
    };
    if (Number.isFinite(declared) && declared >= 0) {
      if (declared > limit) return refuse('too-large');
      if (!budget.take(declared)) return refuse('no-room');
      held = declared;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      const over = size > limit ? 'too-large' : size > held && !budget.take(size - held) ? 'no-room' : undefined;
      if (over) {
        cleanup();
        chunks.length = 0;
        refuse(over);
        return;
      }
      held = Math.max(held, size);
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ ok: true, body: Buffer.concat(chunks, size) });
    };
    const onAbort = (): void => {
      cleanup();
      resolve({ ok: false, reason: 'aborted' });
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
    };
    const onClose = (): void => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/** Where a record sat in the body: its line (NDJSON, or a JSON error) or its array index. */
export type RecordPlace = { line: number } | { index: number };

/** A problem with one record or line, as the 400 answer lists it. */
export type RecordProblem = RecordPlace & { message: string };

export type ParsedBody =
  | { ok: true; records: Array<{ value: unknown; place: RecordPlace }> }
  | { ok: false; status: 400 | 415; answer: Record<string, unknown> };

/** The media types the source reads, by what they hold. */
const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines']);

/** At most this many problems are listed in one answer. */
export const MAX_LISTED_PROBLEMS = 100;

/** What to do with bytes that are not UTF-8: refuse the request (400), or read them as U+FFFD. */
export type Utf8Policy = 'reject' | 'replace';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Parses a body by its Content-Type: `application/json` holds one record, or an array of
 * records; `application/x-ndjson` holds one JSON record per line (empty lines skipped).
 * The body must be UTF-8 (RFC 8259): under `'reject'` (the default) a byte sequence that
 * is not gets 400 naming its offset and line; under `'replace'` it is read as U+FFFD. A
 * leading byte order mark is skipped either way.
 */
export function parseBody(contentType: string | undefined, body: Buffer, utf8: Utf8Policy = 'reject'): ParsedBody {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const json = JSON_TYPES.has(media);
  if (json || NDJSON_TYPES.has(media)) {
    let text: string;
    try {
      text = (utf8 === 'reject' ? strictUtf8 : lenientUtf8).decode(body);
    } catch {
      const offset = Math.max(0, invalidUtf8Offset(body));
      const line = countLines(body, offset);
      return {
        ok: false,
        status: 400,
        answer: { error: 'body is not valid UTF-8: nothing was accepted', offset, line, bytes: body.subarray(offset, offset + 4).toString('hex') },
      };
    }
    return json ? parseJson(text) : parseNdjson(text);
  }
  return {
    ok: false,
    status: 415,
    answer: {
      error: `unsupported Content-Type ${JSON.stringify(contentType ?? '')}`,
      expected: ['application/json', 'application/x-ndjson'],
    },
  };
}

function parseJson(text: string): ParsedBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = jsonErrorOffset(text);
    const { line, column } = lineAndColumn(text, offset < 0 ? text.length : offset);
    return { ok: false, status: 400, answer: { error: 'malformed JSON body', line, column, message } };
  }
  const records = Array.isArray(value) ? value.map((v, index) => ({ value: v as unknown, place: { index } })) : [{ value, place: { line: 1 } }];
  return { ok: true, records };
}

function parseNdjson(text: string): ParsedBody {
  const records: Array<{ value: unknown; place: RecordPlace }> = [];
  const problems: RecordProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    try {
      records.push({ value: JSON.parse(line) as unknown, place: { line: i + 1 } });
    } catch (error) {
      problems.push({ line: i + 1, message: error instanceof Error ? error.message : String(error) });
    }
  });
  if (problems.length > 0) {
    return { ok: false, status: 400, answer: { error: 'malformed NDJSON body: nothing was accepted', ...listed(problems) } };
  }
  return { ok: true, records };
}

/** The problems to list in an answer, cut to {@link MAX_LISTED_PROBLEMS}. */
export function listed(problems: RecordProblem[]): { problems: RecordProblem[]; problemCount: number } {
  return { problems: problems.slice(0, MAX_LISTED_PROBLEMS), problemCount: problems.length };
}

/**
 * The offset of the first byte that does not start, or continue, a well-formed UTF-8
 * sequence (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF),
 * or -1. Only for the 400 answer: the decoder decides.
 */
export function invalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** The 1-based line of byte `offset`. */
function countLines(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 0x0a) line++;
  return line;
}
