import fc from 'fast-check';

/** The seed of this run's property tests: `SLUICE_SEED` replays a failure; otherwise a new one each run. */
export const SEED = process.env.SLUICE_SEED !== undefined ? Number(process.env.SLUICE_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;

/** How many cases a property runs: `SLUICE_RUNS`, or the suite's own default. */
export function propertyRuns(fallback: number): number {
  return Number(process.env.SLUICE_RUNS ?? fallback);
}

/** fc.assert with the run's seed; a failure names the seed and how to replay it. */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { seed: SEED, numRuns });
  } catch (e) {
    console.error(`property failed with seed ${SEED}: rerun with SLUICE_SEED=${SEED}`);
    throw e;
  }
}
