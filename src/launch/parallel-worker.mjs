// The first script of a worker thread of a parallel run: lets the thread load TypeScript
// (job modules are .ts files, run without a build step), then starts the slot.
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
