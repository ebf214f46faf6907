import { SluiceError } from '../../errors/index.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

/**
 * Time-based indices (index lifecycle by age): one index per period, named
 * `<prefix>-YYYY.MM.DD` (periods of whole days) or `<prefix>-YYYY.MM.DD-HH.mm` (shorter
 * ones), from the start of the period (UTC, periods counted from the epoch). Retention
 * deletes a whole index once its period ended more than `retention` ago: dropping an index
 * is cheap, deleting documents by query is not (as dropping partitions in PostgreSQL).
 */
export class TimeIndices {
  private readonly pattern: RegExp;

  constructor(
    readonly prefix: string,
    readonly periodMs: number,
    who: string,
  ) {
    if (!(periodMs >= MINUTE) || periodMs % MINUTE !== 0 || (periodMs < DAY ? DAY % periodMs !== 0 : periodMs % DAY !== 0)) {
      throw new SluiceError('INVALID_ARGUMENT', `${who}: an index period must be whole minutes that divide a day, or whole days; got ${periodMs} ms`);
    }
    const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.pattern = new RegExp(`^${esc}-(\\d{4})\\.(\\d{2})\\.(\\d{2})(?:-(\\d{2})\\.(\\d{2}))?$`);
  }

  /** The index of a time (epoch ms). */
  indexOf(time: number): string {
    const start = Math.floor(time / this.periodMs) * this.periodMs;
    const iso = new Date(start).toISOString(); // 2026-12-08T13:00:00.000Z
    const day = `${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
    return this.periodMs % DAY === 0 ? `${this.prefix}-${day}` : `${this.prefix}-${day}-${iso.slice(11, 13)}.${iso.slice(14, 16)}`;
  }

  /** The start of an index's period, or undefined for a name that is not one of these indices. */
  startOf(index: string): number | undefined {
    const m = this.pattern.exec(index);
    if (!m) return undefined;
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  }

  /** Of `indices`, those whose period ended at or before `cutoff`. */
  expired(indices: readonly string[], cutoff: number): string[] {
    return indices.filter((i) => {
      const start = this.startOf(i);
      return start !== undefined && start + this.periodMs <= cutoff;
    });
  }
}
