// The first script of a cluster member's stream thread started from the sources (the
// installed package starts them from the compiled cluster-thread.js): registers the source
// loader, then runs the thread.
import './source-loader.mjs';

await import('./cluster-thread.ts');
