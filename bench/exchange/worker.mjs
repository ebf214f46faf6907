// Worker bootstrap: lets a worker thread load TypeScript (as bin/sluice.mjs does for the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./producer.ts');
