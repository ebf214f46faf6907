/** Helpers of the HTTP source's tests: a small tmpfs to fill, and waiting for a condition. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Resolves once `probe` returns true, trying every few milliseconds (the test's timeout bounds it). */
export async function until(probe: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 10));
}
