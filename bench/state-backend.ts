/**
 * `node --expose-gc --import tsx bench/state-backend.ts [--keys N] [--events N] [--fill N] [--cache N]`:
 * the on-disk keyed state backend beside the in-memory one.
 *
 * - keyed count: `--events` records (default 5M) over `--keys` keys (default 1M), each a
 *   `value()` then `update(+1)` under its key, as a keyed count operator does. Printed
 *   for the memory backend and the disk backend (cache of `--cache` entries, default
 *   100,000), with the heap after each.
 * - fill: `--fill` distinct keys (default 5M; the target is 50M with the heap under
 *   1 GiB) written once each into the disk backend, then flushed; prints time, heap used
 *   (after a GC when `--expose-gc` is given), RSS and the file size, with progress lines.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DiskStateBackend } from '../src/state/disk/lmdb-backend.js';
import { valueState } from '../src/state/descriptors.js';
import { keyedCount as countOver } from './state.js';
import { MemoryStateBackend } from '../src/state/memory-backend.js';
import type { KeyedStateBackend } from '../src/state/types.js';
import { ManualClock } from '../src/time/clock.js';

const { values } = parseArgs({
  options: { keys: { type: 'string' }, events: { type: 'string' }, fill: { type: 'string' }, cache: { type: 'string' }, only: { type: 'string' } },
});
const KEYS = Number(values.keys ?? 1_000_000);
const EVENTS = Number(values.events ?? 5_000_000);
const FILL = Number(values.fill ?? 5_000_000);
const CACHE = Number(values.cache ?? 100_000);
const ONLY = values.only; // 'count' | 'fill'

const gc = (globalThis as { gc?: () => void }).gc;
const heapMB = (): string => {
  gc?.();
  return (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0);
};
const rssMB = (): string => (process.memoryUsage().rss / 2 ** 20).toFixed(0);
const rate = (n: number, s: number): string => `${((n / s) / 1e6).toFixed(2)}M/s`;

function keyedCount(b: KeyedStateBackend): { seconds: number; checksum: number } {
  return countOver(b, EVENTS, KEYS);
}

const root = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
console.log(`node ${process.version}; heap figures ${gc ? 'after a full GC' : 'without GC (run with --expose-gc)'}`);
try {
  if (ONLY === undefined || ONLY === 'count') {
    console.log(`\nkeyed count: ${EVENTS.toLocaleString()} records over ${KEYS.toLocaleString()} keys`);
    console.log('| backend | records/s | heap used (MB) | checksum |');
    console.log('| --- | --- | --- | --- |');
    const clock = new ManualClock(0);
    const memory = new MemoryStateBackend({ clock });
    const m = keyedCount(memory);
    console.log(`| memory | ${rate(EVENTS, m.seconds)} | ${heapMB()} | ${m.checksum} |`);
    memory.dispose();
    const disk = new DiskStateBackend({ clock, path: join(root, 'count'), cacheSize: CACHE });
    const d = keyedCount(disk);
    disk.flush();
    console.log(`| disk (lmdb, cache ${CACHE.toLocaleString()}) | ${rate(EVENTS, d.seconds)} | ${heapMB()} | ${d.checksum} |`);
    await disk.destroy();
  }
  if (ONLY === undefined || ONLY === 'fill') {
    console.log(`\nfill: ${FILL.toLocaleString()} distinct keys into the disk backend (cache ${CACHE.toLocaleString()})`);
    const disk = new DiskStateBackend({ clock: new ManualClock(0), path: join(root, 'fill'), cacheSize: CACHE });
    const v = disk.getState(valueState<{ n: number; last: number }>('v'));
    const t0 = performance.now();
    const step = Math.max(1, Math.floor(FILL / 10));
    for (let i = 0; i < FILL; i++) {
      disk.setCurrentKey(i);
      v.update({ n: 1, last: i });
      if ((i + 1) % step === 0) {
        const s = (performance.now() - t0) / 1000;
        console.log(`  ${(i + 1).toLocaleString()} keys, ${s.toFixed(1)} s, ${rate(i + 1, s)}, heap ${heapMB()} MB, rss ${rssMB()} MB`);
      }
    }
    disk.flush();
    const seconds = (performance.now() - t0) / 1000;
    const file = statSync(join(root, 'fill', 'state.mdb')).size;
    console.log(`fill done: ${seconds.toFixed(1)} s (${rate(FILL, seconds)}), heap used ${heapMB()} MB, rss ${rssMB()} MB, file ${(file / 2 ** 30).toFixed(2)} GiB`);
    disk.setCurrentKey(FILL - 1);
    if (v.value()?.last !== FILL - 1) throw new Error('fill: the last key did not read back');
    await disk.destroy();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
