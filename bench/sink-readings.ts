/** What the sink benches of external stores (`sinks-cassandra.ts`, `sinks-opensearch.ts`) share: the rows they write and how they time them. */

export interface Reading {
  sensor: string;
  t: number;
  v: number;
}
const T0 = Date.UTC(2026, 0, 1);
/** Reading i: sensor i mod 1,000 (a partition each), one reading per sensor per second. */
export const reading = (i: number): Reading => ({ sensor: `s${i % 1000}`, t: T0 + Math.floor(i / 1000) * 1000, v: i % 997 });

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Seconds `f` takes. */
export const timed = async (f: () => Promise<void>): Promise<number> => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};
