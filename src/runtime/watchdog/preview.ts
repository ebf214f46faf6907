/**
 * A bounded preview of a record for the watchdog's log line: JSON-like text of at most
 * `max` characters, built by walking the value only as far as the text goes (a record of
 * megabytes costs what its first fields cost). Tasks write one per batch a step is handed,
 * so its cost is bounded per batch, not per record (`step-stamps.ts`).
 *
 * @example
 * previewRecord({ user: 'a', n: 1n, tags: new Set(['x']) }, 40); // '{"user":"a","n":1n,"tags":Set["x"]}'
 */
export function previewRecord(value: unknown, max = 200): string {
  const p: Preview = { text: '', max, stack: [] };
  try {
    walk(p, value, 0);
  } catch {
    return '[a value that cannot be shown]'; // a getter that throws, say
  }
  return p.text.length > max ? `${p.text.slice(0, max)}…` : p.text;
}

interface Preview {
  text: string;
  readonly max: number;
  /** The objects being walked (a cycle shows as [circular]). */
  readonly stack: object[];
}

/** Appends `s`; false once the preview is long enough (the walk stops). */
function push(p: Preview, s: string): boolean {
  p.text += s;
  return p.text.length < p.max;
}

/** A key JSON writes as it is (no escaping): most records' keys. */
const PLAIN_KEY = /^[\w$]{1,64}$/;

function walk(p: Preview, v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return push(p, JSON.stringify(v.length > p.max ? v.slice(0, p.max) : v));
    case 'number':
    case 'boolean':
      return push(p, String(v));
    case 'bigint':
      return push(p, `${v}n`);
    case 'undefined':
      return push(p, 'undefined');
    case 'symbol':
      return push(p, v.toString());
    case 'function':
      return push(p, `[function ${v.name || 'anonymous'}]`);
  }
  if (v === null) return push(p, 'null');
  const o = v as object;
  if (p.stack.includes(o)) return push(p, '[circular]');
  if (depth > 4) return push(p, Array.isArray(o) ? '[…]' : '{…}');
  if (o instanceof Date) return push(p, Number.isNaN(o.getTime()) ? 'Invalid Date' : JSON.stringify(o.toISOString()));
  if (ArrayBuffer.isView(o)) return push(p, `${o.constructor.name}(${(o as { length?: number }).length ?? o.byteLength})`);
  p.stack.push(o);
  try {
    if (Array.isArray(o)) return items(p, '[', o, depth);
    if (o instanceof Set) return items(p, 'Set[', o, depth);
    if (o instanceof Map) {
      if (!push(p, 'Map{')) return false;
      let first = true;
      for (const [k, x] of o) {
        if ((!first && !push(p, ',')) || !walk(p, k, depth + 1) || !push(p, '=>') || !walk(p, x, depth + 1)) return false;
        first = false;
      }
      return push(p, '}');
    }
    if (!push(p, '{')) return false;
    let first = true;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      if ((!first && !push(p, ',')) || !push(p, PLAIN_KEY.test(k) ? `"${k}":` : `${JSON.stringify(k)}:`) || !walk(p, (o as Record<string, unknown>)[k], depth + 1)) return false;
      first = false;
    }
    return push(p, '}');
  } finally {
    p.stack.pop();
  }
}

function items(p: Preview, open: string, values: Iterable<unknown>, depth: number): boolean {
  if (!push(p, open)) return false;
  let first = true;
  for (const x of values) {
    if ((!first && !push(p, ',')) || !walk(p, x, depth + 1)) return false;
    first = false;
  }
  return push(p, ']');
}
