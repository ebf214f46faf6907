/**
 * The package as a user installs it: `npm pack` (which builds dist/), then the tarball
 * installed with `--omit=dev` into fresh projects (ES module and CommonJS), where small
 * jobs run end to end through the installed `sluice` command and through the library,
 * and a strict `tsc` (no skipLibCheck) type-checks a consumer against the published
 * declarations. Each regression the packaging issue listed fails one of these.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packSluice, runProgram, type Ran } from '../cli/processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let home: string;

/** Runs a program to its end in `cwd`, without colours (see `runProgram`). */
function run(file: string, args: string[], cwd: string): Promise<Ran> {
  return runProgram(file, args, cwd, { ...process.env, NO_COLOR: '1' }, 180_000);
}

/** Runs the installed `sluice` command in a project folder. */
function sluice(project: string, ...args: string[]): Promise<Ran> {
  return run(process.execPath, [join(home, 'node_modules', 'sluice', 'bin', 'sluice.mjs'), ...args], join(home, project));
}

function node(project: string, file: string): Promise<Ran> {
  return run(process.execPath, [file], join(home, project));
}

async function npm(cwd: string, ...args: string[]): Promise<void> {
  const r = await run('npm', args, cwd);
  if (r.code !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${r.stderr}`);
}

/** stdout lines that are not JSON log lines. */
const printed = (stdout: string) => stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{'));

function project(name: string, packageJson: object, files: Record<string, string>): void {
  mkdirSync(join(home, name), { recursive: true });
  writeFileSync(join(home, name, 'package.json'), JSON.stringify(packageJson));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(home, name, file), text);
}

const doubling = (name: string, importLine: string, exportLine: string) => `${importLine}
const job = new Job({ name: '${name}' });
job.source(fromCollection([1, 2, 3]), { uid: 'numbers' }).map((n${name.endsWith('ts') ? ': number' : ''}) => n * 2).print();
${exportLine}
`;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sluice-consumer-'));
  const tarball = await packSluice(home);
  writeFileSync(join(home, 'package.json'), JSON.stringify({ name: 'consumers', private: true }));
  await npm(home, 'install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', tarball);

  project('esm', { type: 'module' }, {
    'job.mjs': doubling('esm-js', "import { Job, fromCollection } from 'sluice';", 'export default job;'),
    'job.ts': doubling('esm-ts', "import { Job, fromCollection } from 'sluice';", 'export default job;'),
    // Parallelism 2: worker threads start from the compiled worker and load this .ts file themselves.
    'parallel.ts': `import { Job, fromCollection, type DataStream } from 'sluice';
const job = new Job({ name: 'parallel-ts', parallelism: 2 });
const words: DataStream<string> = job.source(fromCollection(['a', 'b', 'a', 'c', 'a', 'b']), { uid: 'words' });
words.keyBy((w) => w).reduce((a, b) => a + b, { uid: 'concat' }).print();
export default job;
`,
    'library.mjs': `import { Job, fromCollection, collectSink } from 'sluice';
import { jsonFormat, csvFormat } from 'sluice/formats';
import { JobHarness, ManualClock } from 'sluice/testing';
import { kafkaSource } from 'sluice/kafka';
const out = collectSink();
const job = new Job({ name: 'embedded' });
job.source(fromCollection(['{"n":1}', '{"n":2}']), { uid: 'lines' }).map((l) => jsonFormat().decode(Buffer.from(l)).n * 10).sinkTo(out);
await job.run();
console.log(JSON.stringify({ values: out.values, csv: typeof csvFormat, harness: typeof JobHarness, clock: typeof ManualClock, kafka: typeof kafkaSource }));
`,
    'redis-job.mjs': `import { Job, fromCollection, redisSink } from 'sluice';
const job = new Job({ name: 'needs-redis' });
job.source(fromCollection([{ k: 'a', v: 1 }]), { uid: 'rows' }).sinkTo(redisSink({ target: { type: 'hash', key: (r) => r.k } }));
export default job;
`,
    'bad-import.mjs': "import { nothing } from 'not-installed-anywhere';\nexport default nothing;\n",
  });
  project('cjs', { name: 'cjs-consumer' }, {
    'job.ts': doubling('cjs-ts', "import { Job, fromCollection } from 'sluice';", 'export default job;'),
    'job.cjs': doubling('cjs-js', "const { Job, fromCollection } = require('sluice');", 'module.exports = job;'),
    'embedded.cjs': `const { Job, fromCollection, collectSink } = require('sluice');
const out = collectSink();
const job = new Job({ name: 'embedded-cjs' });
job.source(fromCollection([1, 2, 3]), { uid: 'numbers' }).map((n) => n * 3).sinkTo(out);
job.run().then(() => console.log(JSON.stringify(out.values)));
`,
  });
}, 400_000);

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

// Each test starts Node processes (and one the TypeScript compiler): slow on a busy machine.
describe('the installed package (npm pack, npm install --omit=dev)', { timeout: 180_000 }, () => {
  it('installs compiled JavaScript only: no sources, no DuckDB, no broker clients', async () => {
    const installed = join(home, 'node_modules');
    expect(existsSync(join(installed, 'sluice', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'sluice', 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'sluice', 'src'))).toBe(false);
    for (const heavy of ['@duckdb', 'ioredis', 'mqtt', 'pg', '@platformatic', '@nats-io', 'amqplib', '@aws-sdk', 'vitest', 'typescript']) {
      expect(existsSync(join(installed, heavy)), heavy).toBe(false);
    }
  });

  it('sluice --help and version run from the compiled command', async () => {
    const help = await sluice('esm', '--help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: sluice <command>');
    expect((await sluice('esm', 'version')).stdout).toMatch(/^sluice \d+\.\d+\.\d+/);
  });

  it('runs a JavaScript job (.mjs) in an ES module project', async () => {
    const r = await sluice('esm', 'run', 'job.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(printed(r.stdout).slice(0, 3)).toEqual(['2', '4', '6']);
  });

  it('runs a TypeScript job (.ts) in an ES module project', async () => {
    const r = await sluice('esm', 'run', 'job.ts');
    expect(r.code, r.stderr).toBe(0);
    expect(printed(r.stdout).slice(0, 3)).toEqual(['2', '4', '6']);
  });

  it('runs a TypeScript job at parallelism 2: worker threads load it too', async () => {
    const r = await sluice('esm', 'run', 'parallel.ts');
    expect(r.code, r.stderr).toBe(0);
    const lines = printed(r.stdout).filter((l) => /^[abc]+$/.test(l));
    expect(lines.sort()).toEqual(['a', 'aa', 'aaa', 'b', 'bb', 'c']);
  });

  it('imports sluice, sluice/formats, sluice/testing and a connector subpath from plain JavaScript', async () => {
    const r = await node('esm', 'library.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ values: [10, 20], csv: 'function', harness: 'function', clock: 'function', kafka: 'function' });
  });

  it('runs a TypeScript job (.ts) and a CommonJS job (.cjs) in a CommonJS project', async () => {
    const ts = await sluice('cjs', 'run', 'job.ts');
    expect(ts.code, ts.stderr).toBe(0);
    expect(printed(ts.stdout).slice(0, 3)).toEqual(['2', '4', '6']);
    const cjs = await sluice('cjs', 'run', 'job.cjs');
    expect(cjs.code, cjs.stderr).toBe(0);
    expect(printed(cjs.stdout).slice(0, 3)).toEqual(['2', '4', '6']);
  });

  it('require()s the library from CommonJS', async () => {
    const r = await node('cjs', 'embedded.cjs');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([3, 6, 9]);
  });

  it('a connector whose client is not installed fails with the package to install', async () => {
    const r = await sluice('esm', 'run', 'redis-job.mjs');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('DEPENDENCY_MISSING');
    expect(r.stderr).toContain('npm install ioredis');
  });

  it('a job file that cannot load says what to do', async () => {
    const r = await sluice('esm', 'run', 'bad-import.mjs');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('JOB_FILE_INVALID');
    expect(r.stderr).toContain('npm install not-installed-anywhere');
  });

  it('type-checks a strict TypeScript consumer against the published declarations (no skipLibCheck)', async () => {
    // A TypeScript project has the compiler and Node's types of its own: lend it the repository's.
    cpSync(join(repo, 'node_modules', '@types', 'node'), join(home, 'node_modules', '@types', 'node'), { recursive: true });
    cpSync(join(repo, 'node_modules', 'undici-types'), join(home, 'node_modules', 'undici-types'), { recursive: true });
    project('typed', { type: 'module' }, {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true },
        include: ['*.ts'],
      }),
      'consumer.ts': `import { Job, fromCollection, collectSink, tumbling, count, valueState, WatermarkStrategy, OutputTag, SluiceError, type DataStream, type KeyedProcessFunction, type ValueState, type WindowResult } from 'sluice';
import { jsonFormat } from 'sluice/formats';
import { JobHarness } from 'sluice/testing';
import { kafkaSource, kafkaSink } from 'sluice/kafka';
import { natsSource } from 'sluice/nats';
import { redisSink } from 'sluice/redis';
import { postgresSink } from 'sluice/postgres';
import { mqttSource } from 'sluice/mqtt';
import { rabbitmqSource, rabbitmqStreamSource, rabbitmqSink } from 'sluice/rabbitmq';
import { kinesisSource, kinesisSink } from 'sluice/kinesis';

interface Click { user: string; at: number }
const job = new Job({ name: 'typed', checkpoints: { interval: '10s' } });
const clicks: DataStream<Click> = job.source(fromCollection<Click>([{ user: 'a', at: 1 }]), {
  uid: 'clicks',
  watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Click>('5s').withTimestampAssigner((c) => c.at),
});
const perUser: DataStream<WindowResult<string, number>> = clicks.keyBy((c) => c.user).window(tumbling('1m')).aggregate(count(), { uid: 'per-user' });
perUser.sinkTo(collectSink());
const counter: KeyedProcessFunction<string, Click, number> = (() => {
  let n!: ValueState<number>;
  return {
    open: (ctx) => { n = ctx.state(valueState<number>('n')); },
    processElement: (_c, _ctx, out) => { n.update((n.value() ?? 0) + 1); out.collect(n.value() ?? 0); },
  };
})();
clicks.keyBy((c) => c.user).process(counter, { uid: 'count' }).print();
const late = new OutputTag<Click>('late');
const fmt = jsonFormat<Click>();
const harness = new JobHarness();
const sources = [kafkaSource<Click>, natsSource<Click>, mqttSource<Click>, rabbitmqSource<Click>, rabbitmqStreamSource<Click>, kinesisSource<Click>, kafkaSink<Click>, redisSink<Click>, postgresSink<Click>, rabbitmqSink<Click>, kinesisSink<Click>];
export { job, late, fmt, harness, sources, SluiceError };
`,
    });
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', join(home, 'typed', 'tsconfig.json')], home);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
