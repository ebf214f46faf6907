import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedJob } from '../../src/launch/job.js';
import { liveJob } from '../fixtures/jobs/observed-jobs.js';

// Evaluated in the page, where `document` exists.
declare const document: { body: { dataset: Record<string, string | undefined> }; querySelector(s: string): { textContent: string | null } | null };

const root = new URL('../../', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
let browser: BrowserContext;
let run: StartedJob;
let userDataDir: string;

beforeAll(async () => {
  // A fresh machine gets Debian's Chromium first (see the script). Awaited, not execFileSync:
  // apt-get takes minutes, and a synchronous wait would hold this worker's event loop, so
  // Vitest's worker RPC (60 s) would time out behind it.
  if (!existsSync(CHROMIUM)) {
    const install = spawn('sh', [join(root, 'scripts/install-chromium.sh')], { stdio: 'inherit' });
    const [code, signal] = (await once(install, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`scripts/install-chromium.sh failed (exit ${code ?? signal})`);
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  // A fresh profile each run (Playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  run = liveJob({ dir: mkdtempSync(join(tmpdir(), 'sluice-dash-')), server: { port: 0 } }).start();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  run?.cancel();
  await run?.done;
});

describe('dashboard in headless Chromium', () => {
  it('draws the job graph, live rates, watermarks, checkpoints and charts', async () => {
    const { url } = (await run.server)!;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // The graph: one box per task, with its steps.
    await page.waitForSelector('#graph g.task[data-task="union-1"]');
    expect(await page.locator('#graph g.task').count()).toBe(3);
    expect(await page.locator('#graph path.edge').count()).toBe(2);
    expect(await page.locator('#graph g.task[data-task="union-1"]').textContent()).toContain('per-user (window)');
    // Live numbers arrive over SSE: wait for a few samples with records flowing.
    await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 3, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => {
      const cell = document.querySelector('#steps tr[data-step="clicks"] td.out-rate');
      return cell !== null && Number.parseFloat(cell.textContent ?? '0') > 0;
    }, undefined, { timeout: 15_000 });
    const rate = await page.locator('#graph text.rate[data-step="clicks"]').textContent();
    expect(rate).toMatch(/^[\d.]+k?\/s$/);
    expect(await page.locator('#status').textContent()).toBe('running');
    expect(await page.locator('#steps tr[data-step="per-user"] td.lag').textContent()).toMatch(/ms|s/);
    await page.waitForSelector('#checkpoints tbody tr td:has-text("completed")', { timeout: 15_000 });
    expect(await page.locator('#throughput polyline.series').count()).toBeGreaterThan(0);
    expect(await page.locator('#latency polyline.series').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    mkdirSync(join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-results/dashboard.png'), fullPage: true });
  }, 60_000);
});
