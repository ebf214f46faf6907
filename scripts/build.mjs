// `npm run build`: compiles src/ to ESM JavaScript and declarations in dist/ (tsc with
// tsconfig.build.json), then copies the files the code reads at run time (the dashboard).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const assets = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? assets(join(dir, e.name)) : /\.html$/.test(e.name) ? [join(dir, e.name)] : []));
for (const file of assets(src)) cpSync(file, join(dist, relative(src, file)));
