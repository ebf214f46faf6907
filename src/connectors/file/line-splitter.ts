const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** One line of a file, without its line ending. */
export interface Line {
  readonly text: string;
  /** 1-based line number, counting empty lines. */
  readonly number: number;
  /** Byte offset just after the line (and its newline): where the next line starts. */
  readonly end: number;
}

/**
 * Splits bytes into lines as they arrive in chunks, at byte level so that a UTF-8
 * character cut across two chunks decodes whole. Handles `\n` and `\r\n` endings and a
 * byte-order mark at the start of the file. `offset` is the byte position just after the
 * last line handed out: the position a reader reports, and where a restart begins.
 *
 * @example
 * const s = new LineSplitter();
 * s.push(Buffer.from('a\nb'));
 * s.next(); // { text: 'a', number: 1, end: 2 }
 * s.next(); // undefined: 'b' waits for its newline
 * s.takeRest(); // { text: 'b', number: 2, end: 3 } (at the end of a bounded read)
 */
export class LineSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Index in `buf` of the first byte not yet handed out. */
  private pos = 0;
  /** Index in `buf` from which to look for the next newline (bytes before have none). */
  private scan = 0;
  private base: number;
  private lines = 0;

  constructor(offset = 0) {
    this.base = offset;
  }

  /** Byte offset just after the last line handed out. */
  get offset(): number {
    return this.base + this.pos;
  }
  /** Number of the last line handed out (0 before the first). */
  get lineNumber(): number {
    return this.lines;
  }
  /** Bytes held that do not yet end with a newline. */
  get pendingBytes(): number {
    return this.buf.length - this.pos;
  }

  /** Adds the next chunk of bytes; the lines it completes come out of `next()`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length) {
      this.base += this.pos;
      this.buf = chunk;
      this.scan = 0;
    } else {
      this.base += this.pos;
      this.scan -= this.pos;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /** The next complete (newline-terminated) line, or undefined when none is held. */
  next(): Line | undefined {
    const nl = this.buf.indexOf(NEWLINE, this.scan);
    if (nl < 0) {
      this.scan = this.buf.length;
      return undefined;
    }
    const line = this.take(nl, nl + 1);
    return line;
  }

  /** The unterminated last line, if any bytes are held: call at the end of a bounded read. */
  takeRest(): Line | undefined {
    if (this.pos === this.buf.length) return undefined;
    return this.take(this.buf.length, this.buf.length);
  }

  /** Forgets everything held and starts again at `offset`, after line number `line` (0: line numbers restart at 1). */
  reset(offset = 0, line = 0): void {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.scan = 0;
    this.base = offset;
    this.lines = line;
  }

  private take(contentEnd: number, next: number): Line {
    let end = contentEnd;
    if (end > this.pos && this.buf[end - 1] === CARRIAGE_RETURN) end--;
    let text = this.buf.toString('utf8', this.pos, end);
    if (this.base + this.pos === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
    this.pos = next;
    this.scan = next;
    this.lines++;
    return { text, number: this.lines, end: this.base + next };
  }
}
