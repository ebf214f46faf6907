import { describeStateBackend } from '../../../src/testing/index.js';
import { DiskStateBackend } from '../../../src/state/disk/lmdb-backend.js';
import { diskBackendCases, freshDir } from './disk-backend-cases.js';

describeStateBackend('disk (lmdb)', (clock) => new DiskStateBackend({ clock, path: freshDir() }));
// The same suite with a tiny cache: every path through eviction and reload.
describeStateBackend('disk (lmdb), cache of 3 entries', (clock) => new DiskStateBackend({ clock, path: freshDir(), cacheSize: 3 }));

diskBackendCases('disk (lmdb)', (options) => new DiskStateBackend(options));
