import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENTS, USERS, savepointJob } from './fixtures/savepoint-job.js';

const fixtures = new URL('../fixtures/savepoints/', import.meta.url).pathname;

describe('savepoints of earlier versions restore', () => {
  for (const version of readdirSync(fixtures)) {
    it(`restores the savepoint of Sluice ${version}, and the counts go on from it`, async () => {
      const { job, out } = savepointJob();
      await job.run({ fromSavepoint: join(fixtures, version) });
      const last = new Map<number, number>();
      for (const [u, n] of out.values) last.set(u, n);
      // Counts end at the batch count over all events: the saved counts and the saved
      // source position were both restored (a lost count or a re-read record would show).
      for (let u = 0; u < USERS; u++) expect(last.get(u)).toBe(Math.floor((EVENTS - 1 - u) / USERS) + 1);
      expect(out.values.length).toBeLessThan(EVENTS);
    });
  }
});
