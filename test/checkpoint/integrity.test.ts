/**
 * Checkpoint files verify themselves (`src/checkpoint/manifest.ts`, `file-storage.ts`):
 * on real files, every file a checkpoint needs is listed with its size and SHA-256, and
 * any change to one, or to the manifest, is refused with CHECKPOINT_CORRUPT rather than
 * decoded. Recovery's choices over such damage: `corrupt-restore.test.ts` (end to end).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_QUARANTINED } from '../../src/checkpoint/config.js';
import { CheckpointRecovery, type RecoveryEvent } from '../../src/checkpoint/recovery.js';
import { FileCheckpointStorage, SluiceError, type CheckpointData } from '../../src/index.js';

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A checkpoint's data: a few steps, one with a large numeric column (a raw block in state.bin). */
function data(checkpointId: number, extra: Record<string, unknown> = {}): CheckpointData {
  return {
    jobName: 'integrity',
    checkpointId,
    triggeredAt: 1_700_000_000_000 + checkpointId,
    steps: {
      count: { kind: 'process', version: 1, state: { keys: Float64Array.from({ length: 20_000 }, (_, i) => i * 1.5), label: `cp ${checkpointId}`, ...extra } },
      events: { kind: 'source', version: 1, state: { position: checkpointId * 100 } },
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<SluiceError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(SluiceError);
  return e as SluiceError;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-integrity-'));
  return { dir, storage: new FileCheckpointStorage(join(dir, 'cp')) };
}

describe('checkpoint files carry checksums', () => {
  it("the manifest lists state.bin's size and SHA-256, and a checksum of itself; both match the files", async () => {
    const { storage } = setup();
    const handle = await storage.write(data(1));
    const manifestText = readFileSync(join(handle.path, '_manifest.json'), 'utf8');
    const { checksum, ...rest } = JSON.parse(manifestText) as { checksum: string; files: Array<{ name: string; bytes: number; checksum: string }> };
    const state = readFileSync(join(handle.path, 'state.bin'));
    expect(rest.files).toEqual([{ name: 'state.bin', bytes: state.byteLength, checksum: sha256(state) }]);
    expect(checksum).toBe(sha256(JSON.stringify(rest)));
    expect((await storage.read(handle)).steps).toEqual(data(1).steps);
  });

  it('one flipped bit anywhere in state.bin is refused with CHECKPOINT_CORRUPT, never decoded', async () => {
    const { storage } = setup();
    const handle = await storage.write(data(1));
    const path = join(handle.path, 'state.bin');
    const good = readFileSync(path);
    const seed = Number(process.env.SLUICE_SEED ?? Date.now() % 1_000_000);
    // The header, the first byte of the V8 part, the middle of the raw block, the last byte, and random places.
    const at = [0, 9, Math.floor(good.length / 2), good.length - 1, ...fc.sample(fc.integer({ min: 0, max: good.length - 1 }), { seed, numRuns: 12 })];
    for (const i of at) {
      const bad = Buffer.from(good);
      bad[i]! ^= 1 << (i % 8);
      writeFileSync(path, bad);
      const e = await rejection(storage.read(handle));
      expect(e.code, `seed ${seed}, byte ${i}`).toBe('CHECKPOINT_CORRUPT');
      expect(e.message).toMatch(/checkpoint 1 at .* is damaged: state\.bin does not match its checksum/);
      expect(e.hint).toMatch(/another checkpoint or savepoint/);
    }
    writeFileSync(path, good);
    expect((await storage.read(handle)).checkpointId).toBe(1);
  });

  it('a truncated or deleted state.bin is CHECKPOINT_CORRUPT with the sizes, not a raw ReadRawBytes/ENOENT error', async () => {
    const { storage } = setup();
    const handle = await storage.write(data(1));
    const path = join(handle.path, 'state.bin');
    const size = readFileSync(path).byteLength;
    truncateSync(path, 100);
    const truncated = await rejection(storage.read(handle));
    expect(truncated.code).toBe('CHECKPOINT_CORRUPT');
    expect(truncated.message).toContain(`state.bin has 100 bytes, the manifest says ${size} (truncated)`);
    rmSync(path);
    const missing = await rejection(storage.read(handle));
    expect(missing.code).toBe('CHECKPOINT_CORRUPT');
    expect(missing.message).toContain('state.bin is missing');
  });

  it('a manifest changed in place (still valid JSON) fails its own checksum: refused, and not listed (so never retained or discarded)', async () => {
    const { storage } = setup();
    const first = await storage.write(data(1));
    const second = await storage.write(data(2));
    const path = join(second.path, '_manifest.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"triggeredAt": 1700000000002', '"triggeredAt": 1700000000009'));
    const e = await rejection(storage.read(second));
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toContain('_manifest.json does not match its checksum');
    expect((await storage.list()).map((h) => h.checkpointId)).toEqual([first.checkpointId]);
  });

  it('incremental files under shared/ that a state lists are in the manifest with size and checksum; a truncated one is refused by name', async () => {
    const { dir, storage } = setup();
    const shared = join(storage.sharedDir('count'), '1-abcd');
    mkdirSync(shared, { recursive: true });
    const file = join(shared, 'state-full.bin');
    writeFileSync(file, Buffer.alloc(5000, 3));
    const handle = await storage.write(data(1, { sharedDirs: [shared] }));
    const manifest = JSON.parse(readFileSync(join(handle.path, '_manifest.json'), 'utf8')) as { shared: string[]; sharedFiles: unknown[] };
    expect(manifest.shared).toEqual([shared]);
    expect(manifest.sharedFiles).toEqual([{ path: file, bytes: 5000, checksum: sha256(Buffer.alloc(5000, 3)) }]);
    truncateSync(file, 4000);
    const e = await rejection(storage.read(handle));
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toContain(`the incremental state file ${file} has 4000 bytes, the manifest says 5000 (truncated)`);
    expect(existsSync(dir)).toBe(true);
  });

  it('savepoints written before checksums (test/fixtures/savepoints) still read', async () => {
    const fixture = new URL('../fixtures/savepoints/0.1.0', import.meta.url).pathname;
    const read = await new FileCheckpointStorage(fixture).readPath(fixture);
    expect(read.jobName).toBe('savepoint-fixture');
  });
});

describe('checkpoint directories: complete when named, never deleted when not understood', () => {
  it('a write removes unfinished chk-<id>.inprogress directories, leaves a chk-<id> without manifest alone; recovery quarantines that one with a log line', async () => {
    const { storage } = setup();
    await storage.write(data(1));
    mkdirSync(join(storage.dir, 'chk-2'));
    writeFileSync(join(storage.dir, 'chk-2', 'state.bin'), 'partial');
    mkdirSync(join(storage.dir, 'chk-4.inprogress'));
    await storage.write(data(3));
    expect(readdirSync(storage.dir).sort()).toEqual(['_completed.json', 'chk-1', 'chk-2', 'chk-3']);

    const events: RecoveryEvent[] = [];
    const recovery = new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true, onEvent: (e) => events.push(e) });
    expect((await recovery.latest())?.checkpointId).toBe(3);
    // chk-2 is older than the checkpoint restored, so nothing it might have committed repeats; it is not understood, so it is kept aside.
    expect(readdirSync(join(storage.dir, 'quarantine'))).toEqual([expect.stringMatching(/^chk-2\.damaged-/)]);
    expect(events).toEqual([expect.objectContaining({ level: 'warn', event: 'checkpoint_quarantined', checkpointId: 2 })]);
    expect(readFileSync(join(readdirSync(join(storage.dir, 'quarantine')).map((n) => join(storage.dir, 'quarantine', n))[0]!, 'state.bin'), 'utf8')).toBe('partial');
  });

  it("a write still in flight when recovery looks (a failed attempt's last checkpoint) ends first, so recovery sees it and a checkpoint of the same id replaces it cleanly", async () => {
    const { storage } = setup();
    await storage.write(data(1));
    const inFlight = storage.write(data(2));
    const inventory = await storage.inventory();
    expect(inventory.entries.map((e) => [e.checkpointId, e.damage])).toEqual([
      [2, undefined],
      [1, undefined],
    ]);
    await inFlight;
    // The next attempt restored 1 and writes its own 2: the first 2 goes to quarantine, not mixed with it.
    await storage.write(data(2, { label: 'second attempt' }));
    expect(((await storage.read((await storage.list())[0]!)).steps['count']!.state as { label: string }).label).toBe('second attempt');
    expect(readdirSync(join(storage.dir, 'quarantine'))).toEqual([expect.stringMatching(/^chk-2\.replaced-/)]);
  });

  it('a checkpoint being deleted by retention when the process stopped (chk-<id>.discarding) is removed by the next write, never taken for a damaged one', async () => {
    const { storage } = setup();
    const first = await storage.write(data(1));
    await storage.write(data(2));
    await storage.discard(first);
    mkdirSync(join(storage.dir, 'chk-1.discarding'));
    writeFileSync(join(storage.dir, 'chk-1.discarding', 'state.bin'), 'half deleted');
    expect((await storage.inventory()).entries.map((e) => [e.checkpointId, e.damage])).toEqual([[2, undefined]]);
    await storage.write(data(3));
    expect(readdirSync(storage.dir).sort()).toEqual(['_completed.json', 'chk-2', 'chk-3']);
  });

  it('the completion record outlives a deleted latest directory: the evidence recovery refuses on', async () => {
    const { storage } = setup();
    await storage.write(data(1));
    const latest = await storage.write(data(2));
    expect(JSON.parse(readFileSync(join(storage.dir, '_completed.json'), 'utf8'))).toMatchObject({ checkpointId: 2 });
    rmSync(latest.path, { recursive: true });
    const e = await rejection(new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true }).latest());
    expect(e.code).toBe('CHECKPOINT_CORRUPT');
    expect(e.message).toContain("job 'integrity' will not resume: its latest checkpoint, 2, is damaged");
    expect(e.message).toContain('is gone (deleted or moved after the checkpoint completed)');
    expect(e.message).toContain('The newest intact checkpoint is 1');
    expect(e.hint).toContain('--from-checkpoint 1');
    // At-least-once falls back (a WARN), and takes checkpoint 1 as the latest from then on.
    const events: RecoveryEvent[] = [];
    const atLeastOnce = new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: false, onEvent: (ev) => events.push(ev) });
    expect((await atLeastOnce.latest())?.checkpointId).toBe(1);
    expect(events.map((ev) => [ev.level, ev.event])).toEqual([['warn', 'checkpoint_fallback']]);
    expect((await new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true }).latest())?.checkpointId).toBe(1);
  });

  it('--from-checkpoint <id> moves newer checkpoints to quarantine (superseded) and names the chosen one in the record; an unknown id is refused with the ids there are', async () => {
    const { storage } = setup();
    for (const id of [1, 2, 3]) await storage.write(data(id));
    const unknown = await rejection(new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true, fromCheckpoint: 7 }).latest());
    expect(unknown.code).toBe('CHECKPOINT_INVALID');
    expect(unknown.detail).toBe('intact checkpoints: 3, 2, 1');
    const recovery = new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true, fromCheckpoint: '2' });
    expect((await recovery.latest())?.checkpointId).toBe(2);
    expect((await storage.list()).map((h) => h.checkpointId)).toEqual([2, 1]);
    expect(readdirSync(join(storage.dir, 'quarantine'))).toEqual([expect.stringMatching(/^chk-3\.superseded-/)]);
    expect(JSON.parse(readFileSync(join(storage.dir, '_completed.json'), 'utf8'))).toMatchObject({ checkpointId: 2 });
    // The next attempt of the run resumes from the latest again (now 2), without refusing.
    expect((await recovery.latest())?.checkpointId).toBe(2);
  });

  it('quarantine is bounded: a crash loop that leaves a damaged checkpoint at every start keeps the most recently quarantined (default 5), deleting older ones with a log line', async () => {
    expect(DEFAULT_KEEP_QUARANTINED).toBe(5);
    const { storage } = setup();
    const events: RecoveryEvent[] = [];
    mkdirSync(join(storage.dir, 'quarantine'), { recursive: true });
    mkdirSync(join(storage.dir, 'quarantine', 'notes')); // not one it made: never deleted
    for (let start = 1; start <= 8; start++) {
      // Each start: a checkpoint that completes, then one whose manifest is lost (a crash as it was written, say).
      await storage.write(data(2 * start - 1));
      await storage.write(data(2 * start));
      rmSync(join(storage.dir, `chk-${2 * start}`, '_manifest.json'));
      const recovery = new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: false, keepQuarantined: 3, onEvent: (e) => events.push(e) });
      expect((await recovery.latest())?.checkpointId).toBe(2 * start - 1);
    }
    const left = readdirSync(join(storage.dir, 'quarantine')).sort();
    expect(left).toEqual([expect.stringMatching(/^chk-12\.damaged-/), expect.stringMatching(/^chk-14\.damaged-/), expect.stringMatching(/^chk-16\.damaged-/), 'notes']);
    const pruned = events.filter((e) => e.event === 'quarantine_pruned');
    expect(pruned.map((e) => /chk-(\d+)\./.exec(e.path!)?.[1])).toEqual(['2', '4', '6', '8', '10']);
    expect(pruned[0]).toMatchObject({ level: 'info', message: expect.stringMatching(/deleted the quarantined checkpoint directory .*chk-2\.damaged-.*: only the 3 most recently quarantined are kept/) });
  });

  it('a finished job leaves no checkpoint and a record of 0, so the next run starts afresh; damaged leftovers go to quarantine', async () => {
    const { storage } = setup();
    await storage.write(data(1));
    await storage.write(data(2));
    rmSync(join(storage.dir, 'chk-1', '_manifest.json'));
    const recovery = new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true });
    await recovery.finished();
    expect(readdirSync(storage.dir).sort()).toEqual(['_completed.json', 'quarantine']);
    expect(await new CheckpointRecovery(storage, { jobName: 'integrity', exactlyOnce: true }).latest()).toBeUndefined();
  });
});
