/** Helpers of the tests that fill a disk for real (HTTP source, checkpoints, on-disk state): a small tmpfs, filling it, and waiting for a condition. */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `bytes` on a new directory, so that a test can fill a disk for real.
 * Needs root (the tests run as root here); resolves with why not when it cannot mount, for
 * the test to skip with that message.
 */
export function mountTmpfs(bytes: number): Tmpfs | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `cannot mount a tmpfs to fill (needs root): ${stderr || (error as Error).message}` };
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes a file in `dir` until the file system is full, down to its last page (16 KiB
 * blocks alone left up to 16 KiB free, room for a small checkpoint, which then completed
 * now and then under load); returns the file's path, to remove when space should come back.
 */
export function fillUp(dir: string): string {
  const path = join(dir, `filler-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(path, 'w');
  try {
    for (const size of [16 * 1024, 4096, 1]) {
      const block = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Resolves once `probe` returns true, trying every few milliseconds (the test's timeout bounds it). */
export async function until(probe: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 10));
}
