import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An append-only log of accepted records (one JSON line each) in `dir/ingest.log`: the
 * HTTP source writes a request's records here, and fsyncs, before it answers 2xx, so an
 * acknowledged record survives a crash. Appends that arrive while a write is in flight
 * are written together with one fsync (group commit). A record's position is the byte
 * offset just after its line.
 *
 * Not done: the log is never compacted while the job runs (it is removed when the source
 * ends after stop()); a long-running job's log grows with everything ever accepted.
 */
export class DurableLog {
  private fh: FileHandle | undefined;
  private end = 0;
  private queue: Array<{ text: string; resolve: (end: number) => void; reject: (e: unknown) => void }> = [];
  private writing = false;
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'ingest.log');
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.fh = await open(this.path, 'a+');
    this.end = (await this.fh.stat()).size;
  }

  /** Appends lines; resolves with the offset after the last one once they are on disk. */
  append(lines: readonly string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text: `${lines.join('\n')}\n`, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0);
      try {
        const text = group.map((g) => g.text).join('');
        await this.fh!.write(text);
        await this.fh!.sync();
        let at = this.end;
        for (const g of group) {
          at += Buffer.byteLength(g.text);
          g.resolve(at);
        }
        this.end = at;
      } catch (e) {
        for (const g of group) g.reject(e);
      }
    }
    this.writing = false;
  }

  /** The lines after `offset`, each with the offset after it (replay after a restart). */
  async readFrom(offset: number): Promise<Array<{ line: string; end: number }>> {
    const buf = await readFile(this.path);
    const out: Array<{ line: string; end: number }> = [];
    let start = offset;
    for (let i = offset; i < buf.length; i++) {
      if (buf[i] === 0x0a) {
        out.push({ line: buf.toString('utf8', start, i), end: i + 1 });
        start = i + 1;
      }
    }
    return out;
  }

  /** Empties the log (everything in it was consumed and committed). */
  async clear(): Promise<void> {
    await this.fh?.truncate(0);
    this.end = 0;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
