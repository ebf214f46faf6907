#!/usr/bin/env node
// The `sluice` command. The installed package runs its compiled JavaScript (dist/); a
// checkout of the repository (src/ beside bin/) runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

let main;
if (existsSync(new URL('../src/cli/main.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
