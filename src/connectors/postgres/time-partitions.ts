import type pg from 'pg';
import { SluiceError } from '../../errors/index.js';

/**
 * The range partitions of a time-partitioned table (PostgreSQL declarative partitioning),
 * one per `width` milliseconds aligned to the epoch in UTC, named `<table>_p<start epoch
 * seconds>`. Partitions are created before rows are written to them, and dropped whole when
 * they end before a retention cutoff: dropping a partition is how retention stays cheap (no
 * DELETE, no vacuum). Partitions made by others (other names) are dropped by their bounds too.
 */
export class TimePartitions {
  private readonly known = new Set<number>();
  private readonly schema: string | undefined;
  private readonly base: string;

  constructor(
    /** The parent table as the user named it (`metrics` or `ts.metrics`), already checked to be plain. */
    private readonly table: string,
    private readonly quoted: string,
    readonly width: number,
    who: string,
  ) {
    const dot = table.indexOf('.');
    this.schema = dot < 0 ? undefined : table.slice(0, dot);
    this.base = dot < 0 ? table : table.slice(dot + 1);
    // PostgreSQL cuts longer names silently, and two partitions could then collide.
    if (`${this.base}_p${'9'.repeat(11)}`.length > 63) {
      throw new SluiceError('INVALID_ARGUMENT', `${who}: table name ${JSON.stringify(this.base)} is too long to name its partitions (at most 50 characters)`);
    }
  }

  /** The start of the partition holding `time` (epoch ms). */
  startOf(time: number): number {
    return Math.floor(time / this.width) * this.width;
  }

  /** Creates the partitions of these times that are not known to exist. */
  async ensure(client: pg.Client, times: Iterable<number>): Promise<void> {
    const missing = new Set<number>();
    for (const t of times) {
      const s = this.startOf(t);
      if (!this.known.has(s)) missing.add(s);
    }
    for (const start of [...missing].sort((a, b) => a - b)) {
      const name = `${this.schema ? `"${this.schema}".` : ''}"${this.base}_p${Math.floor(start / 1000)}"`;
      const from = new Date(start).toISOString();
      const to = new Date(start + this.width).toISOString();
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${this.quoted} FOR VALUES FROM ('${from}') TO ('${to}')`);
      } catch (e) {
        // Another writer made it between our IF NOT EXISTS and our CREATE: it exists now.
        if ((e as { code?: string }).code !== '23505' && (e as { code?: string }).code !== '42P07') throw e;
      }
      this.known.add(start);
    }
  }

  /** Drops every partition whose upper bound is at or before `cutoff` (epoch ms); returns their names. */
  async dropEndingBefore(client: pg.Client, cutoff: number): Promise<string[]> {
    const { rows } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.inhparent = $1::regclass
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz <= $2::timestamptz`,
      [this.quoted, new Date(cutoff).toISOString()],
    );
    for (const r of rows) await client.query(`DROP TABLE IF EXISTS "${r.schema}"."${r.name}"`);
    // A dropped partition comes back if a row for it is written again (then dropped at the next pass).
    for (const s of this.known) if (s + this.width <= cutoff) this.known.delete(s);
    return rows.map((r) => r.name);
  }

  /** For error messages. */
  describe(): string {
    return `${this.table} partitioned by ${this.width} ms`;
  }
}
