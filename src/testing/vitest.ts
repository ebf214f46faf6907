/**
 * vitest for the shared suites ({@link describeSource}, {@link describeSink},
 * {@link describeStateBackend}): an optional peer dependency of `sluice/testing`. The
 * harness does not need it, so it is loaded here once, leniently: outside a vitest run
 * (or without vitest installed) importing `sluice/testing` still works, and only calling
 * a suite fails.
 */
type Vitest = typeof import('vitest');

let loaded: Vitest | undefined;
let failure: unknown;
try {
  loaded = await import('vitest');
} catch (e) {
  // vitest throws when imported outside its runner; without it installed, the import fails.
  failure = e;
}

/** The vitest API the suites register their tests with; throws when it could not be loaded. */
export function vitest(): Vitest {
  if (loaded === undefined) {
    throw new Error(
      "the shared suites of sluice/testing run under vitest: install it (`npm install -D vitest`, an optional peer dependency of sluice) and call the suite from a test file that vitest runs",
      { cause: failure },
    );
  }
  return loaded;
}
