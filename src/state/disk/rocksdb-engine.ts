/**
 * The RocksDB engine of the on-disk backend (`kv-engine.ts`), on `@nxtedition/rocksdb`
 * (an optional peer dependency, loaded when the first RocksDB backend opens). Internal to
 * `state/disk/`.
 *
 * Why this binding: it is the one maintained RocksDB binding on the registry with a
 * synchronous read path (`db_get_many_sync`, `iterator_nextv_sync`) and synchronous batch
 * writes, and it ships a prebuilt linux-x64 binary (57 MB installed, against 162 MB for
 * `rocksdb-native`, whose reads are async only: a keyed step reads inside `processElement`
 * and cannot await). `rocksdb` (Level) is async only as well. We call its native binding
 * directly: its `abstract-level` class defers everything until an asynchronous open.
 *
 * ## Opening synchronously
 * The binding opens a database on the libuv pool and answers on the opening thread's event
 * loop, but a backend is made synchronously (a job's `stateBackend` factory). So one
 * opener worker per process opens every RocksDB database and owns it (closes it, and at
 * exit its cleanup hook does): the backend's thread blocks with `Atomics.wait` until the
 * worker has the database open (a few milliseconds; the worker's own start, once per
 * process, some hundreds), then takes the database's handle and uses it synchronously.
 *
 * ## Layout
 * The records in the default column family (same keys and values as LMDB, `codec.ts`), the
 * change log in the column family `changes`, written in the same `WriteBatch`. A full
 * checkpoint reads a RocksDB iterator, which pins the state as of its creation (implicit
 * snapshot); a delta checkpoint reads the changed records synchronously at the barrier
 * (there is no snapshot API in the binding), which costs time proportional to the delta.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SluiceError } from '../../errors/index.js';
import type { CheckpointView, KvEngine, KvRecord, KvWrite } from './kv-engine.js';
import { storageFailed } from './storage-errors.js';

const require = createRequire(import.meta.url);

/** The native functions used here (the binding has no type declarations). */
interface Binding {
  db_init(locationOrHandle: string | bigint): unknown;
  db_open(ctx: unknown, options: object, cb: (err: Error | null) => void): Record<string, unknown> | undefined;
  db_get_many_sync(ctx: unknown, keys: Buffer[], options: object): Array<Buffer | undefined>;
  db_clear(ctx: unknown, options: object): void;
  batch_init(): unknown;
  batch_put(batch: unknown, key: Buffer, value: Buffer, options: object): void;
  batch_del(batch: unknown, key: Buffer, options: object): void;
  batch_write(ctx: unknown, batch: unknown, options: object): void;
  batch_clear(batch: unknown): void;
  iterator_init(ctx: unknown, options: object): unknown;
  iterator_seek(it: unknown, target: Buffer): void;
  iterator_nextv_sync(it: unknown, size: number): { rows: Buffer[]; finished: boolean };
  iterator_close(it: unknown): void;
}

let binding: Binding | undefined;
let bindingPath = '';
function loadBinding(): Binding {
  if (binding !== undefined) return binding;
  try {
    bindingPath = require.resolve('@nxtedition/rocksdb/binding');
    binding = require(bindingPath) as Binding;
  } catch (e) {
    throw new SluiceError('INVALID_ARGUMENT', `the RocksDB state backend needs the package @nxtedition/rocksdb: ${(e as Error).message}`, {
      hint: 'npm install --save-exact @nxtedition/rocksdb@12.2.12 (an optional peer dependency of Sluice), or use the LMDB backend (DiskStateBackend).',
      cause: e,
    });
  }
  return binding;
}

// The opener worker: opens databases on request, reports each one's handle through shared
// memory, and closes them on request. CommonJS, evaluated (a TypeScript file would need a loader).
const OPENER = `
const { parentPort, workerData } = require('node:worker_threads');
const { mkdirSync } = require('node:fs');
const binding = require(workerData.bindingPath);
const open = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    const flag = new Int32Array(m.sab, 0, 1);
    const handle = new BigInt64Array(m.sab, 8, 1);
    const fail = (e) => {
      const msg = Buffer.from(String(e && e.message || e)).subarray(0, m.sab.byteLength - 20);
      new Uint8Array(m.sab, 20).set(msg);
      new Int32Array(m.sab, 16, 1)[0] = msg.length;
      Atomics.store(flag, 0, 2);
      Atomics.notify(flag, 0);
    };
    try {
      mkdirSync(m.location, { recursive: true });
      const ctx = binding.db_init(m.location);
      binding.db_open(ctx, m.options, (err) => {
        if (err) return fail(err);
        open.set(m.id, ctx);
        handle[0] = binding.db_get_handle(ctx);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
    } catch (e) { fail(e); }
  } else if (m.op === 'close') {
    const ctx = open.get(m.id);
    open.delete(m.id);
    if (ctx === undefined) return parentPort.postMessage({ id: m.id });
    binding.db_close(ctx, (err) => parentPort.postMessage({ id: m.id, error: err ? String(err.message || err) : undefined }));
  }
});
`;

let opener: Worker | undefined;
let nextId = 1;
const closing = new Map<number, (error: string | undefined) => void>();

function openerWorker(): Worker {
  if (opener !== undefined) return opener;
  const w = new Worker(OPENER, { eval: true, workerData: { bindingPath } });
  w.unref(); // idle, it must not keep the process alive
  w.on('message', (m: { id: number; error?: string }) => {
    closing.get(m.id)?.(m.error);
    closing.delete(m.id);
    if (closing.size === 0) w.unref();
  });
  w.on('error', () => {
    opener = undefined;
  });
  return (opener = w);
}

/** How long the opening thread waits for a database to open before it gives up. */
const OPEN_TIMEOUT_MS = 30_000;

const EMPTY = Buffer.alloc(0);
const RAW = { keyEncoding: 'buffer', valueEncoding: 'buffer' };

export class RocksDbEngine implements KvEngine {
  private readonly b: Binding;
  private readonly ctx: unknown;
  private readonly id: number;
  private readonly changes: { column: unknown };
  private readonly batch: unknown;
  private closed = false;

  constructor(readonly location: string) {
    const b = (this.b = loadBinding());
    const sab = new SharedArrayBuffer(1024);
    const flag = new Int32Array(sab, 0, 1);
    this.id = nextId++;
    const options = { createIfMissing: true, infoLogLevel: '', columns: { default: {}, changes: {} } };
    try {
      openerWorker().postMessage({ op: 'open', id: this.id, location, options, sab });
    } catch (e) {
      throw storageFailed(`opening the RocksDB state store at ${location}`, e, location);
    }
    if (Atomics.wait(flag, 0, 0, OPEN_TIMEOUT_MS) === 'timed-out') {
      throw new SluiceError('STATE_IO_FAILED', `opening the RocksDB state store at ${location} took more than ${OPEN_TIMEOUT_MS / 1000} s`);
    }
    if (flag[0] === 2) {
      const n = new Int32Array(sab, 16, 1)[0]!;
      const message = Buffer.from(new Uint8Array(sab, 20, n)).toString();
      throw storageFailed(`opening the RocksDB state store at ${location}`, new Error(message), location);
    }
    this.ctx = b.db_init(new BigInt64Array(sab, 8, 1)[0]!);
    // Open already (by the worker): this returns the column families at once.
    const columns = b.db_open(this.ctx, {}, () => {});
    if (columns?.['changes'] === undefined) throw new SluiceError('STATE_IO_FAILED', `the RocksDB state store at ${location} has no 'changes' column family`);
    this.changes = { column: columns['changes'] };
    this.batch = b.batch_init();
  }

  get(key: Buffer): Buffer | undefined {
    return this.b.db_get_many_sync(this.ctx, [key], {})[0];
  }

  write(records: ReadonlyArray<KvWrite>, log: boolean): void {
    if (records.length === 0) return;
    const { b, batch } = this;
    try {
      for (const [k, v] of records) {
        if (v === undefined) b.batch_del(batch, k, {});
        else b.batch_put(batch, k, v, {});
        if (log) b.batch_put(batch, k, EMPTY, this.changes);
      }
      b.batch_write(this.ctx, batch, {});
    } finally {
      b.batch_clear(batch);
    }
  }

  range(start: Buffer, end: Buffer, limit?: number): KvRecord[] {
    const out: KvRecord[] = [];
    this.scan(this.iterator(start, end, limit, {}), (key, value) => out.push({ key, value }));
    return out;
  }

  forEach(start: Buffer, end: Buffer, f: (key: Buffer, value: Buffer) => void): void {
    this.scan(this.iterator(start, end, undefined, {}), f);
  }

  clear(): void {
    this.b.db_clear(this.ctx, {});
    this.b.db_clear(this.ctx, this.changes);
  }

  beginCheckpoint(full: boolean): CheckpointView {
    const { b } = this;
    if (full) {
      const it = b.iterator_init(this.ctx, { ...RAW, keys: true, values: true }); // pins the state now
      b.db_clear(this.ctx, this.changes);
      let pending: Array<[Buffer, Buffer | undefined]> = [];
      return {
        next: (start, end, after, limit) => {
          if (after === undefined) {
            b.iterator_seek(it, start.length === 0 ? Buffer.from([0]) : start);
            pending = [];
          }
          const out = pending.splice(0, limit);
          while (out.length < limit) {
            const { rows, finished } = b.iterator_nextv_sync(it, limit - out.length);
            for (let i = 0; i < rows.length; i += 2) {
              const key = rows[i]!;
              if (end !== undefined && Buffer.compare(key, end) >= 0) return out; // past the range
              out.push([key, rows[i + 1]!]);
            }
            if (finished || rows.length === 0) break;
          }
          return out;
        },
        done: () => b.iterator_close(it),
      };
    }
    // A delta: the changed records, read now (nothing writes meanwhile: this is synchronous).
    const changed: Buffer[] = [];
    this.scan(this.iterator(undefined, undefined, undefined, this.changes), (key) => changed.push(key));
    const records: Array<[Buffer, Buffer | undefined]> = [];
    for (let i = 0; i < changed.length; i += 1024) {
      const keys = changed.slice(i, i + 1024);
      const values = b.db_get_many_sync(this.ctx, keys, { fillCache: false });
      for (let j = 0; j < keys.length; j++) records.push([keys[j]!, values[j]]);
    }
    b.db_clear(this.ctx, this.changes);
    return {
      next: (start, end, after, limit) => {
        // The first record at or after `start` (or after `after`): records are in key order.
        const from = after === undefined ? start : after;
        let lo = 0;
        let hi = records.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const c = Buffer.compare(records[mid]![0], from);
          if (c < 0 || (c === 0 && after !== undefined)) lo = mid + 1;
          else hi = mid;
        }
        const out: Array<[Buffer, Buffer | undefined]> = [];
        for (let i = lo; i < records.length && out.length < limit; i++) {
          if (end !== undefined && Buffer.compare(records[i]![0], end) >= 0) break;
          out.push(records[i]!);
        }
        return out;
      },
      done: () => {},
    };
  }

  diskBytes(): number {
    let n = 0;
    try {
      for (const f of readdirSync(this.location)) n += statSync(join(this.location, f)).size;
    } catch {
      // gone
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w = openerWorker();
    w.ref(); // until the worker has closed it
    const error = await new Promise<string | undefined>((resolve) => {
      closing.set(this.id, resolve);
      w.postMessage({ op: 'close', id: this.id });
    });
    if (error !== undefined) throw storageFailed(`closing the RocksDB state store at ${this.location}`, new Error(error), this.location);
  }

  async destroy(): Promise<void> {
    rmSync(this.location, { recursive: true, force: true });
  }

  private iterator(start: Buffer | undefined, end: Buffer | undefined, limit: number | undefined, column: object): unknown {
    return this.b.iterator_init(this.ctx, {
      ...RAW,
      ...column,
      keys: true,
      values: true,
      ...(start !== undefined && start.length > 0 ? { gte: start } : {}),
      ...(end !== undefined ? { lt: end } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
  }

  /** Reads an iterator to its end in chunks, then closes it. */
  private scan(it: unknown, f: (key: Buffer, value: Buffer) => void): void {
    try {
      for (;;) {
        const { rows, finished } = this.b.iterator_nextv_sync(it, 1024);
        for (let i = 0; i < rows.length; i += 2) f(rows[i]!, rows[i + 1]!);
        if (finished || rows.length === 0) return;
      }
    } finally {
      this.b.iterator_close(it);
    }
  }
}
