import { open, mkdir, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SluiceError } from '../../errors/index.js';
import type { Sink, SinkContext, SinkWriter } from '../sink.js';

/** A transaction of the file sink: a sealed part file and the name it gets when committed. */
interface PartTransaction {
  readonly pending: string;
  readonly final: string;
}

/** Options of {@link transactionalFileSink}. */
export interface TransactionalFileSinkOptions {
  /** Prefix of the part files (default: the step's uid). */
  prefix?: string;
}

/** The sink {@link transactionalFileSink} returns: part files committed with checkpoints, exactly-once. */
export interface TransactionalFileSink<T> extends Sink<T> {
  /** The directory of the part files, resolved to an absolute path. */
  readonly dir: string;
}

const PART = /^part-(.+)-(\d+)\.jsonl$/;

/**
 * Writes records as JSON lines into part files in `dir`, exactly once with checkpoints
 * (Flink's FileSink): records go to a hidden in-progress file; at a checkpoint barrier it
 * is sealed as a hidden `.pending` file (pre-commit); when the checkpoint is durable it is
 * renamed to `part-<prefix>-<n>.jsonl` (commit). After a crash, recovery commits the
 * transactions of the restored checkpoint again (a rename that already happened is a
 * no-op) and deletes every other hidden file of this sink (their records will be written
 * again by the replay). Readers see only whole, committed part files.
 * Without exactly-once delivery it commits what it has at each checkpoint and at the end.
 *
 * @example
 * const job = new Job({ checkpoints: { interval: '1s' }, delivery: 'exactly-once' });
 * job.source(src, { uid: 'in' }).map(f).sinkTo(transactionalFileSink('out/'), { uid: 'out' });
 */
export function transactionalFileSink<T>(dir: string, options: TransactionalFileSinkOptions = {}): TransactionalFileSink<T> {
  const root = resolve(dir);
  return {
    kind: 'transactional-file',
    dir: root,
    guarantees: ['exactly-once', 'at-least-once', 'none'],
    describe: () => `JSON lines in part files under ${root}, committed with checkpoints`,
    createWriter: (ctx) => new PartWriter<T>(root, options.prefix ?? ctx.uid, ctx),
  };
}

class PartWriter<T> implements SinkWriter<T> {
  private file: FileHandle | undefined;
  private fileName = '';
  private lines: string[] = [];
  private written = 0;
  private seq = 0;

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly ctx: SinkContext,
  ) {
    if (!/^[\w.-]+$/.test(prefix)) {
      throw new SluiceError('INVALID_ARGUMENT', `transactionalFileSink: prefix ${JSON.stringify(prefix)} may hold letters, digits, '.', '_' and '-' only`);
    }
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Part numbers go on after the highest one in the directory, committed or not.
    for (const name of await readdir(this.dir)) {
      const m = PART.exec(name.replace(/^\.(.*)\.pending$/, '$1'));
      if (m && m[1] === this.prefix) this.seq = Math.max(this.seq, Number(m[2]) + 1);
    }
  }

  write(values: T[]): Promise<void> | void {
    for (const v of values) {
      let line: string | undefined;
      try {
        line = JSON.stringify(v);
      } catch (e) {
        throw new SluiceError('BAD_RECORD', `transactionalFileSink: a record cannot be written as JSON: ${(e as Error).message}`, { step: this.ctx.uid });
      }
      if (line === undefined) throw new SluiceError('BAD_RECORD', 'transactionalFileSink: undefined cannot be written as JSON', { step: this.ctx.uid });
      this.lines.push(line);
    }
    if (this.lines.length >= 4096) return this.spill();
  }

  /** Appends buffered lines to the in-progress file. */
  private async spill(): Promise<void> {
    if (this.lines.length === 0) return;
    if (!this.file) {
      this.fileName = join(this.dir, `.part-${this.prefix}-${this.seq}.inprogress`);
      this.file = await open(this.fileName, 'w');
    }
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.written += text.length;
    await this.file.write(text);
  }

  /** Seals the in-progress file as a pending transaction. */
  async preCommit(): Promise<PartTransaction | undefined> {
    await this.spill();
    if (!this.file) return undefined;
    await this.file.sync();
    await this.file.close();
    this.file = undefined;
    const n = this.seq++;
    const tx: PartTransaction = {
      pending: join(this.dir, `.part-${this.prefix}-${n}.jsonl.pending`),
      final: join(this.dir, `part-${this.prefix}-${n}.jsonl`),
    };
    await rename(this.fileName, tx.pending);
    this.written = 0;
    return tx;
  }

  async commit(transactions: unknown[]): Promise<void> {
    for (const t of transactions as PartTransaction[]) {
      try {
        await rename(t.pending, t.final);
      } catch (e) {
        // Committed before (a recovery commits again): the final file is there.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (transactions.length > 0) await syncDir(this.dir);
  }

  async recover(transactions: unknown[]): Promise<void> {
    await this.commit(transactions);
    // Anything else this sink left hidden was written after the restored checkpoint: the replay writes it again.
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(`.part-${this.prefix}-`)) await rm(join(this.dir, name), { force: true });
    }
  }

  /** Not exactly-once: publish what was written (end of a bounded job). */
  async flush(): Promise<void> {
    const tx = await this.preCommit();
    if (tx) await this.commit([tx]);
  }

  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await f?.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
