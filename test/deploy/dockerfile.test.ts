/**
 * The Dockerfiles: Sluice's own (the repository root) and the one `sluice init` writes
 * (templates/starter/Dockerfile). Each is linted with dockerfile-utils' validator (the one
 * behind VS Code's Dockerfile support: syntax, instruction arguments and flags, every rule at
 * error level), then checked for what running a job in a container needs. Building the
 * image is not tested here: see the report of the packaging issue for why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/** The linter's findings, one line each. */
function lint(text: string): string[] {
  return validate(text, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of the last stage (the image that runs). */
function finalStage(all: Instruction[]): Instruction[] {
  const from = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(from);
}

const one = (stage: Instruction[], keyword: string) => {
  const found = stage.filter((i) => i.keyword === keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!.args;
};

/** What both images must do: see the Dockerfiles' comments for why. */
function checkRuntime(text: string): { entrypoint: string[]; cmd: string[] } {
  const all = instructions(text);
  expect(all.filter((i) => i.keyword === 'FROM').length, 'multi-stage').toBeGreaterThanOrEqual(2);
  // Base images: a pinned Node line, never an implicit or moving `latest`.
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
  expect(base).toBe('node:22-slim');
  for (const f of all.filter((i) => i.keyword === 'FROM')) expect(f.args).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);

  const stage = finalStage(all);
  expect(stage.some((i) => i.keyword === 'RUN' && /npm ci --omit=dev/.test(i.args)) || stage.some((i) => i.keyword === 'COPY' && /--from=\w+ .*node_modules/.test(i.args))).toBe(true);
  expect(one(stage, 'WORKDIR')).toBe('/app');
  // A non-root user, by number: Kubernetes' runAsNonRoot cannot check a name.
  expect(one(stage, 'USER')).toBe('1000:1000');
  expect(stage.findIndex((i) => i.keyword === 'USER')).toBeGreaterThan(stage.map((i) => i.keyword).lastIndexOf('RUN'));
  expect(one(stage, 'EXPOSE')).toBe('8081');
  expect(one(stage, 'STOPSIGNAL')).toBe('SIGTERM');
  // The health check needs no curl: Node's fetch, on the port the job serves.
  const health = one(stage, 'HEALTHCHECK');
  expect(health).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \["node", "-e", /);
  expect(health).toContain("fetch('http://127.0.0.1:8081/healthz')");
  expect(health).not.toMatch(/curl|wget/);
  const entrypoint = JSON.parse(one(stage, 'ENTRYPOINT')) as string[];
  const cmd = JSON.parse(one(stage, 'CMD')) as string[];
  // exec form: sluice is PID 1 and gets the SIGTERM itself.
  expect(entrypoint[0]).toMatch(/(^|\/)sluice$/);
  expect(entrypoint.slice(1)).toEqual(['run', '--host', '0.0.0.0', '--insecure', '--port', '8081', '--savepoint-on-stop', '--no-progress']);
  // The health check script is valid JavaScript.
  const script = (JSON.parse(health.replace(/^.*? CMD /, '')) as string[])[2]!;
  expect(() => new Function(script)).not.toThrow();
  return { entrypoint, cmd };
}

describe('Dockerfile (Sluice)', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('passes the linter with every rule at error level', () => {
    expect(lint(text)).toEqual([]);
  });

  it('the linter finds what is wrong (so that a pass means something)', () => {
    const found = lint('from node:22-slim\nWORKDIR app\nHEALTHCHECK --interval=often CMD true\nSTOPSIGNAL SIGBOGUS\nCMD ["a"]\nCMD [\'b\']\n');
    expect(found.length).toBeGreaterThanOrEqual(5);
    expect(found.join('\n')).toMatch(/uppercase/i);
    expect(found.join('\n')).toMatch(/absolute/i);
  });

  it('builds the package in one stage and runs `sluice run <job>` from what npm would publish', () => {
    const all = instructions(text);
    const build = all.slice(0, all.map((i) => i.keyword).lastIndexOf('FROM'));
    expect(build.some((i) => i.keyword === 'RUN' && i.args === 'npm ci')).toBe(true);
    expect(build.some((i) => i.keyword === 'RUN' && /^npm run build && npm pack/.test(i.args))).toBe(true);
    const { cmd } = checkRuntime(text);
    expect(cmd).toEqual(['jobs/job.ts']);
    const run = finalStage(all).filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(run.some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
    // sluice on the PATH from package.json's bin; the writable .sluice/ owned by the job's user.
    expect(run.join('\n')).toMatch(/require\('\.\/package\.json'\)\.bin\.sluice/);
    expect(run.join('\n')).toMatch(/chown 1000:1000 \/app\/\.sluice/);
  });

  it('.dockerignore keeps installed, built and local state out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    for (const p of ['.git', 'node_modules', 'dist', '.sluice']) expect(ignored).toContain(p);
  });
});

describe('Dockerfile (sluice init)', () => {
  const text = readFileSync(join(root, 'templates/starter/Dockerfile'), 'utf8').replaceAll('{{name}}', 'my-job');

  it('passes the linter with every rule at error level', () => {
    expect(lint(text)).toEqual([]);
  });

  it('installs sluice from npm with the lockfile and runs the project’s job', () => {
    const { entrypoint, cmd } = checkRuntime(text);
    expect(entrypoint[0]).toBe('/app/node_modules/.bin/sluice');
    expect(cmd).toEqual(['src/job.ts']);
    expect(instructions(text).some((i) => i.keyword === 'COPY' && i.args === 'package.json package-lock.json ./')).toBe(true);
  });
});
