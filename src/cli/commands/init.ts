import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT } from '../exit-codes.js';

export const INIT_HELP = `Usage: sluice init <dir> [--name NAME]

Creates a Sluice project in <dir> (made if missing; refused if it is not empty):
  package.json        depends on sluice; npm start runs the job, npm test its tests
  src/job.ts          a job that runs as it is: made-up clicks, counted per user in 10 s windows
  test/job.test.ts    its test: the job's logic under the test harness, with a manual clock
  tsconfig.json, README.md, Dockerfile, .gitignore, .dockerignore

Then: cd <dir> && npm install && npm test && npm start

Options:
  --name NAME    the package's and the job's name (default: the directory's name)
  -h, --help     show this help

Exit codes: 0 created, 2 usage error (or <dir> is not empty).`;

/** The project templates: plain files, readable as they are (placeholders look like {{name}}). */
const TEMPLATES = fileURLToPath(new URL('../../../templates/starter/', import.meta.url));

/**
 * Template files stored under another name: npm leaves `.gitignore` out of a published
 * package (and `.npmignore`-style files change what it packs), so they travel without the dot.
 */
const RENAMED: Record<string, string> = { gitignore: '.gitignore', dockerignore: '.dockerignore' };

/** What an npm package name may be (lower case, URL-safe, not starting with . or _). */
const PACKAGE_NAME = /^[a-z0-9~-][a-z0-9._~-]{0,213}$/;

export async function initCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    return usage((e as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${INIT_HELP}\n`);
    return EXIT.OK;
  }
  const target = parsed.positionals[0];
  if (!target || parsed.positionals.length > 1) return usage('sluice init needs exactly one directory');
  const dir = resolve(target);
  const name = parsed.values.name ?? packageName(basename(dir));
  if (!PACKAGE_NAME.test(name)) {
    return usage(`'${name}' cannot be a package name: use lower-case letters, digits and - . _ ~ (pass --name)`);
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) return refuse(`${target} exists and is not a directory`);
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
      return refuse(`${target} is not empty (${shown}); sluice init writes only into a new or empty directory`);
    }
  }

  const values = placeholderValues(name);
  const written: string[] = [];
  for (const file of filesUnder(TEMPLATES)) {
    const rel = relative(TEMPLATES, file);
    const out = join(dir, dirname(rel), RENAMED[basename(rel)] ?? basename(rel));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, fill(readFileSync(file, 'utf8'), values, rel));
    written.push(relative(dir, out));
  }
  process.stdout.write(
    `created ${name} in ${dir}:\n${written.sort().map((f) => `  ${f}\n`).join('')}\nnext:\n  cd ${target}\n  npm install\n  npm test\n  npm start\n`,
  );
  return EXIT.OK;
}

/** The values of the templates' placeholders: the name, and version ranges from this package's own package.json. */
function placeholderValues(name: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    devDependencies?: Record<string, string>;
  };
  const dev = pkg.devDependencies ?? {};
  return {
    name,
    // Within the same minor for 0.x (a caret range of 0.y.z stays below 0.(y+1)), the same major after 1.0.
    sluiceRange: `^${pkg.version}`,
    typescriptRange: dev.typescript ?? '^5.9.0',
    vitestRange: dev.vitest ?? '^3.2.0',
    typesNodeRange: dev['@types/node'] ?? '^20.0.0',
  };
}

/** Replaces `{{key}}` placeholders; an unknown one is a mistake in the templates. */
function fill(text: string, values: Record<string, string>, file: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`template ${file} has an unknown placeholder {{${key}}}`);
    return v;
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** A package name made from a directory's name: lower case, other characters as '-'. */
function packageName(dirName: string): string {
  return dirName
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._]+/, '');
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${INIT_HELP}\n`);
  return EXIT.USAGE;
}

function refuse(message: string): number {
  process.stderr.write(`sluice init: ${message}\n`);
  return EXIT.USAGE;
}
