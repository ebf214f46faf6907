#!/usr/bin/env node
// The `sluice` command. The installed package runs its compiled JavaScript (dist/); a
// checkout of the repository (src/ beside bin/) runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

let main;
if (existsSync(new URL('../src/cli/main.ts', import.meta.url))) {
  await import('../src/launch/source-loader.mjs');
  ({ main } = await import('../src/cli/main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
