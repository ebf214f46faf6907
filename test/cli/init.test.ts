import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, packSluice, root, runProgram as exec, until } from './processes.js';

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

const sluice = (cwd: string, ...args: string[]) => exec(process.execPath, [bin, ...args], cwd);

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

/**
 * Installs Sluice into a scaffolded project as a user gets it: the packed tarball (`npm pack`
 * builds dist/), with its production dependencies, from the registry.
 */
async function installSluice(dir: string): Promise<void> {
  const tarball = await packSluice(mkdtempSync(join(tmpdir(), 'sluice-pack-')));
  const install = await exec('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball], dir);
  expect(install.code, install.stderr).toBe(0);
}

/** The project's dev tools, taken from this repository's node_modules (no registry needed). */
function installDevTools(dir: string): void {
  for (const name of ['vitest', 'typescript', '@types/node']) {
    // npm may have installed one already (vitest is an optional peer of sluice/testing).
    if (!existsSync(join(dir, 'node_modules', name))) link(join(root, 'node_modules', name), join(dir, 'node_modules', name));
  }
}

/** The environment for a project's own Vitest: without the variables of the Vitest run this test is in, and without colours. */
function cleanEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !['TEST', 'NODE_ENV', 'FORCE_COLOR'].includes(k));
  return { ...Object.fromEntries(inherited), NO_COLOR: '1' };
}

describe('sluice init', () => {
  it('scaffolds a project whose test passes and whose job runs', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sluice-init-')), 'Clicks App');
    const created = await sluice(root, 'init', dir);
    expect(created.code, created.stderr).toBe(0);
    for (const f of ['package.json', 'src/job.ts', 'test/job.test.ts', 'tsconfig.json', 'README.md', 'Dockerfile', '.gitignore', '.dockerignore']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
      expect(created.stdout).toContain(`  ${f}\n`);
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, any>;
    expect(pkg).toMatchObject({
      name: 'clicks-app',
      type: 'module',
      dependencies: { sluice: `^${version}` },
      scripts: { start: 'sluice run src/job.ts', test: 'vitest run' },
    });
    expect(readFileSync(join(dir, 'src/job.ts'), 'utf8')).toContain("new Job({ name: 'clicks-app'");
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# clicks-app\n/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/^\.sluice\/$/m);
    for (const f of ['package.json', 'src/job.ts', 'README.md', 'Dockerfile']) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/\{\{/);

    await installSluice(dir);
    installDevTools(dir);

    // It type-checks against Sluice's public types, as `npm run typecheck` would.
    const tsc = await exec(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], dir);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);

    // `npm test`: its own Vitest, in its own directory, imports `sluice/testing`.
    const test = await exec(process.execPath, [join(dir, 'node_modules/vitest/vitest.mjs'), 'run'], dir, cleanEnv());
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/Tests\s+1 passed \(1\)/);

    // `npm start`: the start script's command, through the project's node_modules/.bin, for a few windows.
    const [command, ...args] = (pkg.scripts.start as string).split(' ');
    const job = spawn(join(dir, 'node_modules/.bin', command!), [...args, '--port', '0', '--no-progress'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    job.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    job.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
    try {
      await until(() => (stdout.split('\n').length > 8 ? true : undefined), 30_000, () => `fewer than 8 lines:\n${stdout}\n${stderr}`);
    } finally {
      job.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const windows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; start: number; end: number; value: number });
    // The made-up clicks: 4 users in turn, 100 ms of event time apart, so 25 clicks per user per 10 s window.
    for (const w of windows) {
      expect(['ada', 'grace', 'linus', 'margaret']).toContain(w.key);
      expect(w.end - w.start).toBe(10_000);
      expect(w.value).toBe(25);
    }
    expect(new Set(windows.map((w) => w.start)).size).toBeGreaterThanOrEqual(2);
    expect(stderr).toMatch(/job 'clicks-app' cancelled after/);
  }, 180_000);

  it('refuses a directory that is not empty (exit 2), and a name npm would refuse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-init-'));
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const r = await sluice(root, 'init', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sluice init: .* is not empty \(notes\.txt\); sluice init writes only into a new or empty directory/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(dir, 'package.json'))).toBe(false);

    expect((await sluice(root, 'init', join(dir, 'x'), '--name', 'Not A Name')).code).toBe(2);
    expect((await sluice(root, 'init')).code).toBe(2);
    const help = await sluice(root, 'init', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sluice init <dir>/);
  }, 60_000);

  it('its templates are in the published package, under names npm keeps', async () => {
    const packed = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
    expect(packed.code, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const f of ['package.json', 'src/job.ts', 'test/job.test.ts', 'tsconfig.json', 'README.md', 'Dockerfile', 'gitignore', 'dockerignore']) {
      expect(files, f).toContain(`templates/starter/${f}`);
    }
  }, 60_000);
});
