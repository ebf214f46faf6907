import { describe, expect, it } from 'vitest';
import { GLOBAL_WINDOW } from '../../../src/window/window.js';
import { globalWindows } from '../../../src/window/assigners/global.js';

describe('global windows', () => {
  it('puts every record in the one global window, whose default trigger never fires', () => {
    const a = globalWindows<string>();
    const ctx = { currentProcessingTime: () => 0 };
    for (const ts of [Number.MIN_SAFE_INTEGER, -1, 0, 1e12]) expect(a.assignWindows('x', ts, ctx)).toEqual([GLOBAL_WINDOW]);
    expect(a.assignWindows('x', 0, ctx)[0]).toBe(GLOBAL_WINDOW);
    expect(a.isEventTime).toBe(false);
    expect(a.merging).toBe(false);
    expect(a.slicing).toBeUndefined();
    expect(a.defaultTrigger().kind).toBe('never');
    expect(a.describe()).toBe('global');
    expect(Object.isFrozen(a)).toBe(true);
  });
});
