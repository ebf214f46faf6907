/**
 * Writes the savepoint fixture of this Sluice version to test/fixtures/savepoints/<version>/
 * (run once per release: `npx tsx scripts/make-savepoint-fixture.ts`). Commit the result.
 */
import { readFileSync, rmSync } from 'node:fs';
import { savepointJob } from '../test/checkpoint/fixtures/savepoint-job.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const path = new URL(`../test/fixtures/savepoints/${version}`, import.meta.url).pathname;
rmSync(path, { recursive: true, force: true });
const { job, out } = savepointJob(20_000);
const running = job.start();
while (out.values.length < 3000) await new Promise((r) => setTimeout(r, 10));
const handle = await running.stopWithSavepoint(path);
await running.done;
console.log(`savepoint of Sluice ${version} at ${handle.path} (${handle.sizeBytes} bytes, ${out.values.length} records emitted before it)`);
