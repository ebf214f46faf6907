import { describe, expect, it } from 'vitest';
import { FormatLifecycle } from '../../src/formats/index.js';

describe('FormatLifecycle', () => {
  it('opens once (prepare opens first), prepares non-empty batches, and closes once, only after open', async () => {
    const calls: string[] = [];
    const hooks = {
      open: async () => void calls.push('open'),
      prepare: async (m: readonly Uint8Array[]) => void calls.push(`prepare ${m.length}`),
      close: async () => void calls.push('close'),
    };
    const unopened = new FormatLifecycle(hooks);
    await unopened.close();
    expect(calls).toEqual([]); // never opened: nothing to close

    const lifecycle = new FormatLifecycle(hooks);
    await Promise.all([lifecycle.prepare([new Uint8Array(1)]), lifecycle.open()]);
    await lifecycle.prepare([]);
    await lifecycle.close();
    await lifecycle.close();
    expect(calls).toEqual(['open', 'prepare 1', 'close']);
  });

  it('works with a format that has none of the hooks', async () => {
    const lifecycle = new FormatLifecycle({});
    await lifecycle.prepare([new Uint8Array(1)]);
    await lifecycle.close();
  });
});
