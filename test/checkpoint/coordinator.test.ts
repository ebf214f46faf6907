import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointConfig } from '../../src/checkpoint/config.js';
import { CheckpointCoordinator } from '../../src/checkpoint/coordinator.js';
import { FileCheckpointStorage } from '../../src/checkpoint/file-storage.js';
import { ManualClock } from '../../src/time/clock.js';

/** A coordinator over one task that acknowledges only when the test says so. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-coordinator-'));
  const injected: number[] = [];
  const c = new CheckpointCoordinator('job', checkpointConfig({ interval: '1h' }), new FileCheckpointStorage(join(dir, 'cp')), new ManualClock(0), {
    taskCount: 1,
    injectBarrier: (id) => injected.push(id),
    notifyComplete: () => {},
  });
  const ack = (id: number) => c.acknowledge(id, 'task', { step: { kind: 'map', version: 1, state: id } });
  return { c, injected, ack, dir };
}

describe('checkpoint coordinator', () => {
  it('refuses a checkpoint while another is in flight', async () => {
    const { c, ack } = setup();
    const first = c.trigger();
    await expect(c.trigger()).rejects.toThrow(/checkpoint 1 is still in progress/);
    ack(1);
    expect((await first).checkpointId).toBe(1);
  });

  it('a savepoint asked for while a checkpoint is in flight waits for it, then is taken', async () => {
    const { c, injected, ack, dir } = setup();
    const checkpoint = c.trigger();
    const savepoint = c.trigger(join(dir, 'sp'));
    expect(injected).toEqual([1]); // the savepoint's barrier waits
    ack(1);
    expect((await checkpoint).kind).toBe('checkpoint');
    while (injected.length < 2) await new Promise((r) => setTimeout(r, 1));
    expect(injected).toEqual([1, 2]);
    ack(2);
    const handle = await savepoint;
    expect(handle).toMatchObject({ checkpointId: 2, kind: 'savepoint' });
  });

  it('a waiting savepoint is refused if the job stops meanwhile', async () => {
    const { c, dir } = setup();
    const checkpoint = c.trigger();
    const savepoint = c.trigger(join(dir, 'sp'));
    c.stop();
    await expect(checkpoint).rejects.toThrow(/abandoned/);
    await expect(savepoint).rejects.toThrow(/not running/);
  });
});
