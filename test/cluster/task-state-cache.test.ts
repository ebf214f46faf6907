/** Copies of tasks' state on a member's disk: taken only at the offset they were kept under, kept across restarts, dropped for a remade topic. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskStateCache } from '../../src/cluster/task-state-cache.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sluice-copies-'));
  dirs.push(d);
  return d;
}

describe('task state copies', () => {
  it('gives a copy back only at the last stable offset it was kept under', async () => {
    const cache = new TaskStateCache(await dir());
    await cache.put('c-count-changelog', 3, 42n, Buffer.from('state at 42'), 'id-1');
    expect((await cache.get('c-count-changelog', 3, 42n))?.value.toString()).toBe('state at 42');
    expect(await cache.get('c-count-changelog', 3, 43n)).toBeUndefined(); // committed to since: stale
    expect(await cache.get('c-count-changelog', 2, 42n)).toBeUndefined();
    expect(cache.partitions()).toEqual([3]);
  });

  it('the last of several writes in a row wins, and nothing half-written is ever read', async () => {
    const cache = new TaskStateCache(await dir());
    const writes = Array.from({ length: 20 }, (_, i) => cache.put('t', 0, BigInt(i), Buffer.alloc(100_000, i)));
    expect(cache.endOf('t', 0)).toBeUndefined(); // nothing landed yet
    await Promise.all(writes);
    expect(cache.endOf('t', 0)).toBe(19n);
    const copy = await cache.get('t', 0, 19n);
    expect(copy?.value.length).toBe(100_000);
    expect(copy?.value.every((b) => b === 19)).toBe(true);
  });

  it('a member restarted on the same directory finds its copies; those of a remade or vanished topic are deleted', async () => {
    const d = await dir();
    const first = new TaskStateCache(d);
    await first.put('keep', 0, 10n, Buffer.from('k'), 'id-keep');
    await first.put('remade', 1, 5n, Buffer.from('r'), 'id-old');
    await first.put('gone', 2, 7n, Buffer.from('g'), 'id-gone');
    await writeFile(join(d, 'junk.0.state'), 'not a copy');
    const second = new TaskStateCache(d);
    await second.load(new Map([['keep', 'id-keep'], ['remade', 'id-new'], ['junk', 'x']]));
    expect((await second.get('keep', 0, 10n))?.value.toString()).toBe('k');
    expect(await second.get('remade', 1, 5n)).toBeUndefined();
    expect(second.copies()).toEqual([{ topic: 'keep', partition: 0 }]);
    expect((await readdir(d)).sort()).toEqual(['keep.0.state']);
  });

  it('destroy removes the directory (a member without a stable name)', async () => {
    const d = await dir();
    const cache = new TaskStateCache(join(d, 'member'));
    await cache.put('t', 0, 1n, Buffer.from('x'));
    await cache.destroy();
    expect(await readdir(d)).toEqual([]);
  });
});
