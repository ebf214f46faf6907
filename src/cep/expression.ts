/**
 * The expression language of patterns written as data (`Pattern.fromJson`): a condition is
 * a string such as `amount > 500 && country != 'NL'`, parsed here and compiled into a
 * closure tree. Nothing is ever handed to `eval` or `Function`: only what this grammar
 * names can run, so rules may come from outside the job (a rules service, an analyst).
 *
 * Grammar, loosest first:
 *   or      := and (('||' | 'or') and)*
 *   and     := not (('&&' | 'and') not)*
 *   not     := ('!' | 'not') not | compare
 *   compare := sum (('==' | '!=' | '<' | '<=' | '>' | '>=' | 'in') sum)?
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | postfix
 *   postfix := primary ('.' name | '[' or ']')*
 *   primary := number | string | true | false | null | name | name '(' args ')'
 *            | '$' name | '[' list ']' | '(' or ')'
 *
 * A bare `name` is a field of the event being tested (`card.country` a nested one). `$name`
 * is the list of events the partial match took so far for stage `name` (Flink's
 * `ctx.eventsFor(name)`): `$small[0]` its first, `$small[-1]` its last, `$small.amount` the
 * list of their amounts, `count($small)` how many, `sum($small.amount)` their total. `$ts`
 * (no stage may be called `ts`) is the event's timestamp.
 *
 * Values are JSON's. A missing field is null; null compares equal only to null, makes `<`
 * and friends false, and arithmetic on it null (as SQL's NULL), so a rule over an absent
 * field does not match instead of failing. A condition holds only when it yields `true`.
 * Arithmetic or ordering between a number and a string is a type error at run time: the
 * event goes to the step's error policy (dead letters), never silently matched.
 */
import { SluiceError } from '../errors/index.js';
import type { Condition, ConditionContext } from './condition.js';

type Value = unknown;
/** A compiled expression: evaluates against the event and its partial match. */
type Eval = (event: unknown, ctx: ConditionContext<unknown>) => Value;

/** Where an expression is, for messages: `pattern 'fraud', stages[1].where`. */
export interface ExpressionOrigin {
  /** Where the expression sits, as a JSON path (for the message). */
  readonly at: string;
  /** The names of the pattern's positive stages: `$name` must be one of them. */
  readonly stages: readonly string[];
}

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (args: Value[], pos: number, src: string) => Value }> = {
  count: { arity: [1, 1], fn: ([a], p, s) => (a === null || a === undefined ? 0 : list(a, 'count', p, s).length) },
  sum: { arity: [1, 1], fn: ([a], p, s) => numbers(a, 'sum', p, s).reduce((x, y) => x + y, 0) },
  avg: {
    arity: [1, 1],
    fn: ([a], p, s) => {
      const xs = numbers(a, 'avg', p, s);
      return xs.length === 0 ? null : xs.reduce((x, y) => x + y, 0) / xs.length;
    },
  },
  min: { arity: [1, 99], fn: (args, p, s) => extreme(args, 'min', p, s, (x, y) => x < y) },
  max: { arity: [1, 99], fn: (args, p, s) => extreme(args, 'max', p, s, (x, y) => x > y) },
  abs: { arity: [1, 1], fn: ([a], p, s) => (a === null || a === undefined ? null : Math.abs(num(a, 'abs', p, s))) },
  length: {
    arity: [1, 1],
    fn: ([a], p, s) => {
      if (a === null || a === undefined) return null;
      if (typeof a === 'string' || Array.isArray(a)) return a.length;
      throw typeError(`length() takes a string or a list, got ${describe(a)}`, p, s);
    },
  },
  lower: { arity: [1, 1], fn: ([a], p, s) => (a === null || a === undefined ? null : str(a, 'lower', p, s).toLowerCase()) },
  upper: { arity: [1, 1], fn: ([a], p, s) => (a === null || a === undefined ? null : str(a, 'upper', p, s).toUpperCase()) },
  contains: { arity: [2, 2], fn: ([a, b], p, s) => (a === null || a === undefined ? false : str(a, 'contains', p, s).includes(str(b, 'contains', p, s))) },
  startsWith: { arity: [2, 2], fn: ([a, b], p, s) => (a === null || a === undefined ? false : str(a, 'startsWith', p, s).startsWith(str(b, 'startsWith', p, s))) },
  endsWith: { arity: [2, 2], fn: ([a, b], p, s) => (a === null || a === undefined ? false : str(a, 'endsWith', p, s).endsWith(str(b, 'endsWith', p, s))) },
  exists: { arity: [1, 1], fn: ([a]) => a !== null && a !== undefined },
};

/** The names of the functions an expression may call. */
export const EXPRESSION_FUNCTIONS: readonly string[] = Object.freeze(Object.keys(FUNCTIONS));

/**
 * Parses and compiles a condition. Refuses, with EXPRESSION_INVALID naming the place and
 * column, a syntax error, an unknown function or a wrong number of arguments, and a `$name`
 * that is not a stage of the pattern.
 *
 * @example
 * const large = compileCondition("amount > 3 * avg($small.amount) && country != 'NL'", { at: 'stages[1].where', stages: ['small', 'large'] });
 */
export function compileCondition<T>(source: string, origin: ExpressionOrigin): Condition<T> {
  if (typeof source !== 'string') throw invalid(`${origin.at}: a condition is an expression string, got ${describe(source)}`);
  const compiled = new Parser(source, origin).parse();
  return ((event: T, ctx: ConditionContext<T>) => compiled(event, ctx as ConditionContext<unknown>) === true) as Condition<T>;
}

/** Evaluates an expression to its value (for tests and tools; conditions use {@link compileCondition}). */
export function evaluateExpression(source: string, event: unknown, eventsFor: (name: string) => readonly unknown[] = () => [], timestamp = 0): unknown {
  const compiled = new Parser(source, { at: 'expression', stages: [] }, true).parse();
  return compiled(event, { eventsFor, timestamp });
}

interface Token {
  readonly kind: 'num' | 'str' | 'name' | 'stage' | 'op' | 'end';
  readonly text: string;
  readonly value?: Value;
  readonly pos: number;
}

const OPERATORS = ['||', '&&', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', '[', ']', ',', '.'];
const WORDS: Record<string, string> = { or: '||', and: '&&', not: '!' };

function tokenize(src: string, at: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw syntax(`a number cannot run into a name`, i, src, at);
      out.push({ kind: 'num', text: m[0], value: Number(m[0]), pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw syntax(`the string that starts here is not closed with ${c}`, start, src, at);
        const d = src[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"' };
          if (e === undefined || map[e] === undefined) throw syntax(`unknown escape \\${e ?? ''} (use \\\\, \\', \\", \\n or \\t)`, i, src, at);
          s += map[e];
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      out.push({ kind: 'str', text: src.slice(start, i), value: s, pos: start });
      continue;
    }
    if (c === '$' || /[A-Za-z_]/.test(c)) {
      const m = /^\$?[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (!m) throw syntax(`'$' must be followed by a stage name`, i, src, at);
      i += m[0].length;
      const word = m[0];
      if (word.startsWith('$')) out.push({ kind: 'stage', text: word, pos: start });
      else if (WORDS[word] !== undefined) out.push({ kind: 'op', text: WORDS[word]!, pos: start });
      else if (word === 'in') out.push({ kind: 'op', text: 'in', pos: start });
      else out.push({ kind: 'name', text: word, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) {
      const hint = c === '=' ? " (compare with '==')" : c === '&' || c === '|' ? ` (write '${c}${c}')` : '';
      throw syntax(`unexpected character '${c}'${hint}`, i, src, at);
    }
    i += op.length;
    out.push({ kind: 'op', text: op, pos: start });
  }
  out.push({ kind: 'end', text: 'the end', pos: src.length });
  return out;
}

/** A recursive-descent parser that compiles as it goes. */
class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(
    private readonly src: string,
    private readonly origin: ExpressionOrigin,
    /** Any `$name` allowed (evaluateExpression). */
    private readonly anyStage = false,
  ) {
    this.tokens = tokenize(src, origin.at);
  }

  parse(): Eval {
    if (this.peek().kind === 'end') throw this.error('the expression is empty', 0);
    const e = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw this.error(`unexpected ${show(t)} after a complete expression`, t.pos);
    return e;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private take(): Token {
    return this.tokens[this.i++]!;
  }
  private accept(op: string): Token | undefined {
    const t = this.peek();
    if (t.kind === 'op' && t.text === op) {
      this.i++;
      return t;
    }
    return undefined;
  }
  private expect(op: string, what: string): void {
    const t = this.peek();
    if (!this.accept(op)) throw this.error(`expected '${op}' ${what}, got ${show(t)}`, t.pos);
  }

  private or(): Eval {
    let left = this.and();
    while (this.accept('||')) {
      const a = left;
      const b = this.and();
      left = (e, c) => truthy(a(e, c)) || truthy(b(e, c));
    }
    return left;
  }
  private and(): Eval {
    let left = this.not();
    while (this.accept('&&')) {
      const a = left;
      const b = this.not();
      left = (e, c) => truthy(a(e, c)) && truthy(b(e, c));
    }
    return left;
  }
  private not(): Eval {
    if (this.accept('!')) {
      const a = this.not();
      return (e, c) => !truthy(a(e, c));
    }
    return this.compare();
  }
  private compare(): Eval {
    const left = this.sum();
    const t = this.peek();
    if (t.kind !== 'op' || !['==', '!=', '<', '<=', '>', '>=', 'in'].includes(t.text)) return left;
    this.i++;
    const right = this.sum();
    const next = this.peek();
    if (next.kind === 'op' && ['==', '!=', '<', '<=', '>', '>=', 'in'].includes(next.text)) {
      throw this.error(`comparisons do not chain: write (a ${t.text} b) && (b ${next.text} c)`, next.pos);
    }
    const { src } = this;
    const pos = t.pos;
    switch (t.text) {
      case '==':
        return (e, c) => equal(left(e, c), right(e, c));
      case '!=':
        return (e, c) => !equal(left(e, c), right(e, c));
      case 'in':
        return (e, c) => {
          const xs = right(e, c);
          if (xs === null || xs === undefined) return false;
          if (!Array.isArray(xs)) throw typeError(`'in' needs a list on its right, got ${describe(xs)}`, pos, src);
          const x = left(e, c);
          return xs.some((y) => equal(x, y));
        };
      default: {
        const test = ORDER[t.text]!;
        return (e, c) => order(left(e, c), right(e, c), t.text, pos, src, test);
      }
    }
  }
  private sum(): Eval {
    let left = this.product();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '+' && t.text !== '-')) return left;
      this.i++;
      left = arithmetic(left, this.product(), t.text, t.pos, this.src);
    }
  }
  private product(): Eval {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '*' && t.text !== '/' && t.text !== '%')) return left;
      this.i++;
      left = arithmetic(left, this.unary(), t.text, t.pos, this.src);
    }
  }
  private unary(): Eval {
    const t = this.accept('-');
    if (t) {
      const a = this.unary();
      const { src } = this;
      return (e, c) => {
        const v = a(e, c);
        return v === null || v === undefined ? null : -num(v, "unary '-'", t.pos, src);
      };
    }
    return this.postfix();
  }
  private postfix(): Eval {
    let base = this.primary();
    for (;;) {
      if (this.accept('.')) {
        const t = this.take();
        if (t.kind !== 'name') throw this.error(`expected a field name after '.', got ${show(t)}`, t.pos);
        const field = t.text;
        const b = base;
        base = (e, c) => member(b(e, c), field);
        continue;
      }
      const open = this.accept('[');
      if (open) {
        const index = this.or();
        this.expect(']', 'to close the index');
        const b = base;
        const { src } = this;
        base = (e, c) => at(b(e, c), index(e, c), open.pos, src);
        continue;
      }
      return base;
    }
  }
  private primary(): Eval {
    const t = this.take();
    switch (t.kind) {
      case 'num':
      case 'str': {
        const v = t.value;
        return () => v;
      }
      case 'stage': {
        const name = t.text.slice(1);
        if (name === 'ts') return (_e, c) => c.timestamp;
        if (!this.anyStage && !this.origin.stages.includes(name)) {
          const known = this.origin.stages.map((s) => `$${s}`).join(', ');
          throw this.error(`${t.text} names no stage of this pattern (its stages: ${known || 'none'}; $ts is the event's timestamp)`, t.pos);
        }
        return (_e, c) => c.eventsFor(name);
      }
      case 'name': {
        if (t.text === 'true') return () => true;
        if (t.text === 'false') return () => false;
        if (t.text === 'null') return () => null;
        if (this.accept('(')) return this.call(t);
        const field = t.text;
        return (e) => member(e, field);
      }
      case 'op': {
        if (t.text === '(') {
          const e = this.or();
          this.expect(')', "to close the '(' opened before");
          return e;
        }
        if (t.text === '[') {
          const items: Eval[] = [];
          if (!this.accept(']')) {
            do items.push(this.or());
            while (this.accept(','));
            this.expect(']', 'to close the list');
          }
          return (e, c) => items.map((x) => x(e, c));
        }
        throw this.error(`unexpected ${show(t)}: expected a value, a field or '('`, t.pos);
      }
      case 'end':
        throw this.error('the expression ends too early: a value is missing', t.pos);
    }
  }
  private call(name: Token): Eval {
    const f = FUNCTIONS[name.text];
    if (f === undefined) throw this.error(`unknown function ${name.text}() (the functions: ${EXPRESSION_FUNCTIONS.join(', ')})`, name.pos);
    const args: Eval[] = [];
    if (!this.accept(')')) {
      do args.push(this.or());
      while (this.accept(','));
      this.expect(')', `to close the arguments of ${name.text}()`);
    }
    const [lo, hi] = f.arity;
    if (args.length < lo || args.length > hi) {
      const want = lo === hi ? `${lo}` : hi >= 99 ? `at least ${lo}` : `${lo} to ${hi}`;
      throw this.error(`${name.text}() takes ${want} argument${lo === 1 && hi === 1 ? '' : 's'}, got ${args.length}`, name.pos);
    }
    const { src } = this;
    const pos = name.pos;
    return (e, c) =>
      f.fn(
        args.map((a) => a(e, c)),
        pos,
        src,
      );
  }

  private error(message: string, pos: number): SluiceError {
    return syntax(message, pos, this.src, this.origin.at);
  }
}

const ORDER: Record<string, (a: number | string, b: number | string) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function truthy(v: Value): boolean {
  return v === true;
}

function equal(a: Value, b: Value): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return false;
}

function order(a: Value, b: Value, op: string, pos: number, src: string, test: (a: number | string, b: number | string) => boolean): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return test(a, b);
  throw typeError(`'${op}' compares two numbers or two strings, got ${describe(a)} and ${describe(b)}`, pos, src);
}

function arithmetic(left: Eval, right: Eval, op: string, pos: number, src: string): Eval {
  return (e, c) => {
    const a = left(e, c);
    const b = right(e, c);
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    if (typeof a !== 'number' || typeof b !== 'number') {
      throw typeError(`'${op}' needs two numbers${op === '+' ? ' or two strings' : ''}, got ${describe(a)} and ${describe(b)}`, pos, src);
    }
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return b === 0 ? null : a / b;
      default:
        return b === 0 ? null : a % b;
    }
  };
}

/** A field of an object; over a list, the field of each element (`$small.amount`). */
function member(v: Value, field: string): Value {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => member(x, field));
  if (typeof v !== 'object') return null;
  // Own fields only: `constructor` or `__proto__` must not reach into the prototype chain.
  return Object.prototype.hasOwnProperty.call(v, field) ? (v as Record<string, unknown>)[field] : null;
}

function at(v: Value, index: Value, pos: number, src: string): Value {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) {
    if (typeof index !== 'number' || !Number.isInteger(index)) throw typeError(`a list index is a whole number, got ${describe(index)}`, pos, src);
    return v[index < 0 ? v.length + index : index] ?? null;
  }
  if (typeof index === 'string') return member(v, index);
  throw typeError(`cannot index ${describe(v)} with ${describe(index)}`, pos, src);
}

function list(v: Value, fn: string, pos: number, src: string): unknown[] {
  if (!Array.isArray(v)) throw typeError(`${fn}() takes a list (such as $stage or $stage.field), got ${describe(v)}`, pos, src);
  return v;
}
function numbers(v: Value, fn: string, pos: number, src: string): number[] {
  if (v === null || v === undefined) return [];
  return list(v, fn, pos, src)
    .filter((x) => x !== null && x !== undefined)
    .map((x) => num(x, fn, pos, src));
}
function num(v: Value, what: string, pos: number, src: string): number {
  if (typeof v !== 'number') throw typeError(`${what} needs a number, got ${describe(v)}`, pos, src);
  return v;
}
function str(v: Value, what: string, pos: number, src: string): string {
  if (typeof v !== 'string') throw typeError(`${what}() needs a string, got ${describe(v)}`, pos, src);
  return v;
}
function extreme(args: Value[], fn: string, pos: number, src: string, better: (a: number, b: number) => boolean): Value {
  const xs = args.length === 1 && Array.isArray(args[0]) ? numbers(args[0], fn, pos, src) : numbers(args, fn, pos, src);
  if (xs.length === 0) return null;
  return xs.reduce((a, b) => (better(b, a) ? b : a));
}

function describe(v: Value): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function show(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
}

/** The expression with a caret under column `pos`. */
function pointAt(src: string, pos: number): string {
  return `\n  ${src}\n  ${' '.repeat(pos)}^`;
}

function invalid(message: string): SluiceError {
  return new SluiceError('EXPRESSION_INVALID', message);
}

function syntax(message: string, pos: number, src: string, at: string): SluiceError {
  return new SluiceError('EXPRESSION_INVALID', `${at}, column ${pos + 1}: ${message}${pointAt(src, pos)}`);
}

function typeError(message: string, pos: number, src: string): SluiceError {
  return new SluiceError('EXPRESSION_FAILED', `column ${pos + 1}: ${message}${pointAt(src, pos)}`);
}
