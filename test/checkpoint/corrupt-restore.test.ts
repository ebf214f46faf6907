/**
 * A damaged latest checkpoint, end to end with the real `sluice` command and real files:
 * the job is killed (SIGKILL) after a few checkpoints, a file of its latest checkpoint is
 * damaged, and the next `sluice run` must either give exactly the expected output or
 * refuse with CHECKPOINT_CORRUPT and a non-zero exit: never exit 0 with wrong output.
 * The rule it pins is in `src/checkpoint/recovery.ts`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { committedLines } from './helpers.js';
import integrityJob, { expectedLines } from './fixtures/integrity-job.js';

const root = new URL('../../', import.meta.url).pathname;
const fixture = join(root, 'test/checkpoint/fixtures/integrity-job.ts');
const expected = expectedLines();

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The newest checkpoint that has completed: the highest `chk-<id>` directory with a manifest. */
function completed(dir: string): number {
  const cp = join(dir, 'checkpoints');
  if (!existsSync(cp)) return 0;
  const ids = readdirSync(cp)
    .filter((n) => /^chk-\d+$/.test(n) && existsSync(join(cp, n, '_manifest.json')))
    .map((n) => Number(n.slice(4)));
  return Math.max(0, ...ids);
}

/**
 * `sluice run integrity-job.ts [cli…] -- <dir> <retain> <delivery> <backend>`. With
 * `killAfter`, SIGKILL once checkpoint `killAfter` has completed (and its output had a
 * moment to be committed).
 */
function run(dir: string, o: { retain?: number; delivery?: string; backend?: string; cli?: string[]; killAfter?: number } = {}): Promise<Run> {
  const args = [join(root, 'bin/sluice.mjs'), 'run', fixture, '--no-server', ...(o.cli ?? []), '--', dir, String(o.retain ?? 1), o.delivery ?? 'exactly-once', o.backend ?? 'memory'];
  return new Promise((resolve) => {
    const child = spawn('node', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const watch =
      o.killAfter === undefined
        ? undefined
        : setInterval(() => {
            if (completed(dir) < o.killAfter!) return;
            clearInterval(watch);
            setTimeout(() => child.kill('SIGKILL'), 20);
          }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      resolve({ code, signal, stderr });
    });
  });
}

const checkpointsOf = (dir: string): number[] =>
  readdirSync(join(dir, 'checkpoints'))
    .map((n) => /^chk-(\d+)$/.exec(n)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => b - a);

const quarantineOf = (dir: string): string[] => {
  const q = join(dir, 'checkpoints', 'quarantine');
  return existsSync(q) ? readdirSync(q).sort() : [];
};

/** Runs the job until it is killed after its 4th checkpoint; returns the checkpoints it left, newest first. */
async function crashAfterCheckpoints(dir: string, o: { retain: number; delivery?: string; backend?: string }): Promise<number[]> {
  const r = await run(dir, { ...o, killAfter: 4 });
  expect(r.signal, r.stderr).toBe('SIGKILL');
  const ids = checkpointsOf(dir);
  expect(ids.length).toBeGreaterThanOrEqual(o.retain);
  return ids;
}

/** Flips one bit of a byte in the middle of a file. */
function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
  writeFileSync(path, bytes);
}

type Damage = 'flip a byte of state.bin' | 'truncate state.bin' | 'delete state.bin' | 'delete the manifest' | 'truncate the manifest' | 'delete the whole directory';
const damage: Record<Damage, (chk: string) => void> = {
  'flip a byte of state.bin': (chk) => flipByte(join(chk, 'state.bin')),
  'truncate state.bin': (chk) => truncateSync(join(chk, 'state.bin'), Math.floor(statSync(join(chk, 'state.bin')).size / 2)),
  'delete state.bin': (chk) => rmSync(join(chk, 'state.bin')),
  'delete the manifest': (chk) => rmSync(join(chk, '_manifest.json')),
  'truncate the manifest': (chk) => truncateSync(join(chk, '_manifest.json'), 40),
  'delete the whole directory': (chk) => rmSync(chk, { recursive: true }),
};

/** Counts of each line. */
function multiset(lines: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

/**
 * Output after the user accepted repeated output (or an at-least-once fallback): every
 * expected line, nothing else, and a line twice only if it had been committed before.
 */
function expectExpectedPlusRepeatsOf(output: readonly string[], committedBefore: readonly string[]): void {
  const got = multiset(output);
  const want = multiset(expected);
  const before = multiset(committedBefore);
  const missing = [...want.keys()].filter((l) => !got.has(l));
  const foreign = [...got.keys()].filter((l) => !want.has(l));
  const badRepeats = [...got].filter(([l, n]) => n > 1 && (n > 2 || !before.has(l)));
  expect({ missing: missing.length, foreign, badRepeats }).toEqual({ missing: 0, foreign: [], badRepeats: [] });
}

describe('a damaged latest checkpoint (exactly-once): never restored, never a silent fallback', () => {
  const cases: Array<[Damage, number]> = [
    ['flip a byte of state.bin', 1],
    ['flip a byte of state.bin', 2],
    ['delete the manifest', 1],
    ['delete the manifest', 2],
    ['truncate the manifest', 2],
    ['truncate state.bin', 1],
    ['truncate state.bin', 2],
    ['delete state.bin', 1],
    ['delete state.bin', 2],
    ['delete the whole directory', 2],
  ];

  it.each(cases)('%s, %i retained: refuses with CHECKPOINT_CORRUPT (exit 1, no stack), quarantines it once, refuses again the same way', async (what, retain) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-corrupt-'));
    const [latest, older] = await crashAfterCheckpoints(dir, { retain });
    damage[what](join(dir, 'checkpoints', `chk-${latest}`));
    const committed = committedLines(dir);

    const refused = await run(dir, { retain });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`error \\[CHECKPOINT_CORRUPT\\] job 'integrity' will not resume: its latest checkpoint, ${latest}, is damaged`));
    expect(refused.stderr).not.toMatch(/\n\s+at /); // a message with a hint, not a stack
    // It says what would be repeated, and how to accept it. (With one retained, the kill
    // may land before retention deleted the older checkpoint: then it is the fallback.)
    if (older !== undefined) {
      expect(refused.stderr).toContain(`The newest intact checkpoint is ${older}`);
      expect(refused.stderr).toContain(`--from-checkpoint ${older}`);
    } else {
      expect(refused.stderr).toContain('No intact checkpoint is left');
      expect(refused.stderr).toContain('--from-checkpoint none');
    }
    // Nothing was written, nothing deleted: the damaged directory is in quarantine (unless it was deleted outright).
    expect(committedLines(dir)).toEqual(committed);
    const quarantined = quarantineOf(dir);
    expect(quarantined).toEqual(what === 'delete the whole directory' ? [] : [expect.stringMatching(new RegExp(`^chk-${latest}\\.damaged-`))]);
    expect(checkpointsOf(dir)).not.toContain(latest);

    // A restart does not loop or fall back: the completion record keeps the evidence.
    const again = await run(dir, { retain });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`\\[CHECKPOINT_CORRUPT\\] job 'integrity' will not resume: its latest checkpoint, ${latest}, is damaged`));
    expect(quarantineOf(dir)).toEqual(quarantined);
    expect(committedLines(dir)).toEqual(committed);
  }, 60_000);

  it('with the damage accepted (--from-checkpoint <older id>), it resumes there: every expected line, repeats only of committed output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-accept-'));
    const [latest, older] = await crashAfterCheckpoints(dir, { retain: 2 });
    flipByte(join(dir, 'checkpoints', `chk-${latest}`, 'state.bin'));
    expect((await run(dir, { retain: 2 })).code).toBe(1);
    const committed = committedLines(dir);
    const accepted = await run(dir, { retain: 2, cli: ['--from-checkpoint', String(older)] });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain(`resumed from checkpoint ${older}`);
    expect(accepted.stderr).toMatch(/"event":"checkpoint_chosen"/);
    expectExpectedPlusRepeatsOf(committedLines(dir), committed);
  }, 60_000);

  it('with one retained, --from-checkpoint none starts from the beginning: every expected line, repeats only of committed output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-accept-none-'));
    const [latest] = await crashAfterCheckpoints(dir, { retain: 1 });
    rmSync(join(dir, 'checkpoints', `chk-${latest}`, '_manifest.json'));
    expect((await run(dir)).code).toBe(1);
    const committed = committedLines(dir);
    expect(committed.length).toBeGreaterThan(0);
    const accepted = await run(dir, { cli: ['--from-checkpoint', 'none'] });
    expect(accepted.code, accepted.stderr).toBe(0);
    expectExpectedPlusRepeatsOf(committedLines(dir), committed);
  }, 60_000);

  it('a byte flipped in an incremental file of the on-disk backend (shared/, listed in the manifest) is caught the same way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-corrupt-shared-'));
    const [latest] = await crashAfterCheckpoints(dir, { retain: 1, backend: 'disk' });
    const manifest = JSON.parse(readFileSync(join(dir, 'checkpoints', `chk-${latest}`, '_manifest.json'), 'utf8')) as { sharedFiles: Array<{ path: string; bytes: number; checksum: string }> };
    expect(manifest.sharedFiles.length).toBeGreaterThan(0);
    for (const f of manifest.sharedFiles) expect(f.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    const file = manifest.sharedFiles.at(-1)!.path;
    flipByte(file);
    const refused = await run(dir, { backend: 'disk' });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`[CHECKPOINT_CORRUPT] job 'integrity' will not resume: its latest checkpoint, ${latest}, is damaged`);
    expect(refused.stderr).toContain(`the incremental state file ${file} does not match its checksum`);
  }, 60_000);
});

describe('what may still resume by itself', () => {
  it('at-least-once: a damaged latest checkpoint is quarantined and the job falls back to the older one with a WARN; nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-alo-'));
    const [latest, older] = await crashAfterCheckpoints(dir, { retain: 2, delivery: 'at-least-once' });
    flipByte(join(dir, 'checkpoints', `chk-${latest}`, 'state.bin'));
    const committed = committedLines(dir);
    const resumed = await run(dir, { retain: 2, delivery: 'at-least-once' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resumed from checkpoint ${older}`);
    const warn = resumed.stderr.split('\n').find((l) => l.includes('"event":"checkpoint_fallback"'));
    expect(warn).toBeDefined();
    expect(JSON.parse(warn!)).toMatchObject({ level: 40, checkpointId: older });
    expect(resumed.stderr).toMatch(/"event":"checkpoint_quarantined"/);
    expect(quarantineOf(dir)).toEqual([expect.stringMatching(new RegExp(`^chk-${latest}\\.damaged-`))]);
    expectExpectedPlusRepeatsOf(committedLines(dir), committed);
  }, 60_000);

  it('exactly-once: a checkpoint left unfinished by the crash (chk-<id>.inprogress) is no evidence: it is removed and the output is exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-unfinished-'));
    const [latest] = await crashAfterCheckpoints(dir, { retain: 1 });
    const unfinished = join(dir, 'checkpoints', `chk-${latest + 1}.inprogress`);
    // What a kill in the middle of writing checkpoint latest+1 leaves: part of its state, no
    // manifest (the kill may have left that directory itself, a few milliseconds after latest).
    mkdirSync(unfinished, { recursive: true });
    writeFileSync(join(unfinished, 'state.bin'), Buffer.alloc(100, 7));
    const resumed = await run(dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resumed from checkpoint ${latest}`);
    expect(committedLines(dir)).toEqual(expected);
    expect(existsSync(unfinished)).toBe(false);
    expect(quarantineOf(dir)).toEqual([]);
  }, 60_000);

  it('a savepoint taken while running is evidence too: the next run resumes from it, not from the older checkpoint (whose replay would repeat what the savepoint committed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-savepoint-latest-'));
    const first = integrityJob([dir, '1', 'exactly-once']).start();
    while (first.checkpoints.filter((c) => c.status === 'completed').length < 3) await new Promise((r) => setTimeout(r, 10));
    const savepoint = await first.stopWithSavepoint(join(dir, 'savepoint'));
    await first.done;
    expect(checkpointsOf(dir)[0]).toBeLessThan(savepoint.checkpointId);
    const second = integrityJob([dir, '1', 'exactly-once']).start();
    await second.done;
    expect(second.restoredFrom).toBe(savepoint.checkpointId);
    expect(committedLines(dir)).toEqual(expected);
  }, 60_000);
});

describe('sluice run --help', () => {
  it('documents --from-checkpoint', async () => {
    const help = await new Promise<string>((resolve) => {
      const child = spawn('node', [join(root, 'bin/sluice.mjs'), 'run', '--help'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', () => resolve(out));
    });
    expect(help).toMatch(/--from-checkpoint ID\|PATH\|none\s+resume from this checkpoint/);
  }, 30_000);
});
