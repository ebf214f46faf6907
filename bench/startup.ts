/**
 * `npm run bench:startup`: how fast a job starts, as a user runs it.
 *
 * - The installed package: `npm pack` (which builds dist/), installed with `--omit=dev` into a
 *   temporary project, then `sluice run` of a small `.mjs` and `.ts` job, from process spawn
 *   to the job's first output line (targets: < 300 ms and < 500 ms).
 * - The checkout (the TypeScript sources through tsx, as every run was before the build).
 * - Worker thread start-up: a job at parallelism 2 minus the same job at parallelism 1
 *   (both spawn to exit), compiled against the sources.
 *
 * Each figure is the median of `--runs N` (default 7) fresh processes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

/** Spawns `node args…` in `cwd`; resolves with ms to the first stdout line matching `first`, and to exit. */
function time(cwd: string, args: string[], first: RegExp): Promise<{ firstMs: number; exitMs: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstMs = NaN;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (Number.isNaN(firstMs) && buffered.split('\n').some((l) => first.test(l))) firstMs = ms();
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve({ firstMs, exitMs: ms() }) : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

async function median(n: number, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await f());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

const job = (name: string, parallelism: number, ts: boolean) => `import { Job, fromCollection } from 'sluice';
const job = new Job({ name: '${name}', parallelism: ${parallelism} });
job.source(fromCollection(['a', 'b', 'c', 'a']), { uid: 'words' }).keyBy((w${ts ? ': string' : ''}) => w).reduce((a${ts ? ': string' : ''}, b${ts ? ': string' : ''}) => a + b, { uid: 'concat' }).map((w${ts ? ': string' : ''}) => 'out ' + w).print();
export default job;
`;

const home = mkdtempSync(join(tmpdir(), 'sluice-startup-'));
try {
  console.log('packing and installing the package (npm pack, npm install --omit=dev)…');
  execFileSync('npm', ['pack', '--pack-destination', home], { cwd: repo, stdio: 'pipe' });
  const tarball = readdirSync(home).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(home, 'package.json'), JSON.stringify({ name: 'startup', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', join(home, tarball)], { cwd: home, stdio: 'pipe' });
  for (const p of [1, 2]) {
    writeFileSync(join(home, `job${p}.mjs`), job(`js-p${p}`, p, false));
    writeFileSync(join(home, `job${p}.ts`), job(`ts-p${p}`, p, true));
  }
  // The same jobs for the checkout: they import the sources.
  const devDir = join(home, 'dev');
  mkdirSync(devDir);
  for (const p of [1, 2]) {
    writeFileSync(join(devDir, `job${p}.ts`), job(`dev-p${p}`, p, true).replace("'sluice'", JSON.stringify(join(repo, 'src', 'index.ts'))));
  }

  const installedBin = join(home, 'node_modules', 'sluice', 'bin', 'sluice.mjs');
  const repoBin = join(repo, 'bin', 'sluice.mjs');
  const first = /^out /;
  const rows: Array<[string, number, string]> = [];
  const measure = async (label: string, cwd: string, bin: string, file: string, what: 'firstMs' | 'exitMs', target: string) => {
    const v = await median(runs, async () => (await time(cwd, [bin, 'run', file], first))[what]);
    rows.push([label, v, target]);
  };
  await measure('installed: sluice run job.mjs, spawn to first output', home, installedBin, 'job1.mjs', 'firstMs', '< 300 ms');
  await measure('installed: sluice run job.ts, spawn to first output', home, installedBin, 'job1.ts', 'firstMs', '< 500 ms');
  await measure('checkout (tsx): sluice run job.ts, spawn to first output', devDir, repoBin, 'job1.ts', 'firstMs', '');
  await measure('installed: job.mjs parallelism 1, spawn to exit', home, installedBin, 'job1.mjs', 'exitMs', '');
  await measure('installed: job.mjs parallelism 2, spawn to exit', home, installedBin, 'job2.mjs', 'exitMs', '');
  await measure('installed: job.ts parallelism 2, spawn to exit', home, installedBin, 'job2.ts', 'exitMs', '');
  await measure('checkout (tsx): job.ts parallelism 1, spawn to exit', devDir, repoBin, 'job1.ts', 'exitMs', '');
  await measure('checkout (tsx): job.ts parallelism 2, spawn to exit', devDir, repoBin, 'job2.ts', 'exitMs', '');

  console.log(`\nNode ${process.version}, median of ${runs} fresh processes each\n`);
  for (const [label, v, target] of rows) console.log(`${label.padEnd(62)} ${v.toFixed(0).padStart(6)} ms  ${target}`);
  const get = (prefix: string) => rows.find((r) => r[0].startsWith(prefix))![1];
  console.log(`\nworker thread start-up (parallelism 2 minus 1, spawn to exit):`);
  console.log(`  installed, .mjs job:      ${(get('installed: job.mjs parallelism 2') - get('installed: job.mjs parallelism 1')).toFixed(0)} ms`);
  console.log(`  installed, .ts job:       ${(get('installed: job.ts parallelism 2') - get('installed: job.mjs parallelism 1')).toFixed(0)} ms (each worker registers tsx for the job file)`);
  console.log(`  checkout (sources, tsx):  ${(get('checkout (tsx): job.ts parallelism 2') - get('checkout (tsx): job.ts parallelism 1')).toFixed(0)} ms`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
