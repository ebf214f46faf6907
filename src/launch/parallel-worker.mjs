// The first script of a worker thread of a parallel run started from the sources (the
// installed package starts workers from the compiled parallel-worker.js): registers the
// source loader, then starts the slot.
import './source-loader.mjs';

await import('./parallel-worker.ts');
