import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** One line of the audit log: who did what to which job, from where, and how it ended. */
export interface AuditEntry {
  /** When the request was decided, ISO 8601 UTC. */
  readonly time: string;
  /** The caller's subject (`anonymous` on an open server, `null` when no valid token was sent). */
  readonly subject: string | null;
  readonly roles: readonly string[];
  /** The action (`cancel`, `savepoint`, `forget`…, or `view` for a refused read). */
  readonly action: string;
  /** The job named by the request, if any. */
  readonly job: string | null;
  readonly method: string;
  readonly path: string;
  /** The caller's address (the socket's remote address). */
  readonly address: string | null;
  /** `ok` (2xx), `refused` (turned away before the route: 401, 403, 415, 421) or `failed` (the route answered an error). */
  readonly result: 'ok' | 'refused' | 'failed';
  readonly status: number;
  /** The error code of a refused or failed request. */
  readonly code?: string;
  /** The policy rule that decided, if one did. */
  readonly rule?: string;
}

/** Where audit entries go (`server.audit`). */
export interface AuditOptions {
  /** The directory of the daily files `audit-YYYY-MM-DD.jsonl` (UTC days). Default `.sluice/audit`. */
  dir?: string;
  /**
   * A further destination for each entry, such as a PostgreSQL table or a Kafka topic of
   * the user's choice. Called after the entry is on disk; a failure is logged, never lost
   * from the file.
   */
  sink?: (entry: AuditEntry) => void | Promise<void>;
}

/**
 * An append-only audit log: one JSON line per entry in one file per UTC day, each line
 * written with `O_APPEND` and fsynced before {@link append} resolves. Files are never
 * rewritten or truncated (a restart appends to the day's file). Appends are serialised,
 * so lines never interleave. See `test/server/audit-log.test.ts`.
 *
 * @example
 * const audit = new AuditLog({ dir: '/var/log/sluice' });
 * await audit.append({ time: new Date().toISOString(), subject: 'ci', roles: ['operator'], action: 'cancel',
 *   job: 'orders', method: 'POST', path: '/jobs/orders/cancel', address: '10.0.0.7', result: 'ok', status: 202 });
 */
export class AuditLog {
  readonly dir: string;
  private file: { day: string; handle: FileHandle } | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: AuditOptions = {}, private readonly onSinkError: (e: unknown) => void = () => {}) {
    this.dir = resolve(options.dir ?? '.sluice/audit');
  }

  /** The file of a UTC day. */
  fileOf(day: string): string {
    return join(this.dir, `audit-${day}.jsonl`);
  }

  /** Appends `entry` to the day's file and fsyncs it; resolves once it is durable (then hands it to the sink). */
  append(entry: AuditEntry): Promise<void> {
    const written = this.tail.then(() => this.write(entry));
    this.tail = written.catch(() => {});
    return written.then(async () => {
      if (this.options.sink === undefined) return;
      try {
        await this.options.sink(entry);
      } catch (e) {
        this.onSinkError(e);
      }
    });
  }

  private async write(entry: AuditEntry): Promise<void> {
    const day = entry.time.slice(0, 10);
    if (this.file?.day !== day) {
      await this.file?.handle.close();
      this.file = undefined;
      await mkdir(this.dir, { recursive: true });
      // 'a': O_APPEND | O_CREAT, never O_TRUNC: what is written stays.
      this.file = { day, handle: await open(this.fileOf(day), 'a', 0o600) };
    }
    await this.file.handle.write(`${JSON.stringify(entry)}\n`);
    await this.file.handle.sync();
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    await this.tail;
    await this.file?.handle.close();
    this.file = undefined;
  }
}
