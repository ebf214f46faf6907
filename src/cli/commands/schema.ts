import { parseArgs } from 'node:util';
import { checkAvroCompatibility, type CompatibilityProblem } from '../../formats/avro-compatibility.js';
import { declaredSchemas, type DeclaredSchema } from '../../formats/declared-schemas.js';
import type { CompatibilityLevel } from '../../formats/schema-registry.js';
import { loadJobModule } from '../../launch/job-module.js';
import { EXIT } from '../exit-codes.js';
import { splitJobArguments } from '../job-arguments.js';
import { printError } from '../print-error.js';

export const SCHEMA_HELP = `Usage: sluice schema check <job.ts> [--json] [-- job arguments]

Before a deploy: loads the job file (without running it), and compares every schema its
formats declare under a registry subject (confluentAvroFormat with subject and schema, or
subject and readerSchema) with the registry's versions of that subject, under the
subject's compatibility level (BACKWARD, FORWARD, FULL, their _TRANSITIVE forms, NONE).
A writer's schema is checked as the registry would check it when registering; a reader's
schema must read the data of the latest version (of every version, for a _TRANSITIVE level).
Only Avro compatibility is checked; Protobuf and JSON Schema subjects are listed as not checked.

Options:
  --json   one JSON object instead of the report

Exit codes: 0 every schema is compatible, 1 one is not (or the registry failed), 2 usage, 3 bad job file.`;

/** The verdict on one declared schema. */
interface SchemaVerdict {
  subject: string;
  role: 'writer' | 'reader';
  format: string;
  registry: string;
  level: CompatibilityLevel | undefined;
  /** 'compatible', 'incompatible', 'new subject' (nothing registered), 'registered' (the schema is a version already), 'not checked', 'error'. */
  outcome: 'compatible' | 'incompatible' | 'new subject' | 'registered' | 'not checked' | 'error';
  /** The versions compared with. */
  versions: number[];
  problems: CompatibilityProblem[];
  note?: string;
}

export async function schemaCommand(argv: string[]): Promise<number> {
  const { own, jobArgs } = splitJobArguments(argv);
  let parsed;
  try {
    parsed = parseArgs({ args: own, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${SCHEMA_HELP}\n`);
    return EXIT.USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(`${SCHEMA_HELP}\n`);
    return EXIT.OK;
  }
  const [sub, file, ...extra] = parsed.positionals;
  if (sub !== 'check' || !file || extra.length > 0) {
    process.stderr.write(`sluice schema check needs exactly one job file\n\n${SCHEMA_HELP}\n`);
    return EXIT.USAGE;
  }
  const before = declaredSchemas().length;
  try {
    await loadJobModule(file, jobArgs);
  } catch (e) {
    printError(e);
    return EXIT.BAD_JOB_FILE;
  }
  const seen = new Set<string>();
  const declared = declaredSchemas()
    .slice(before)
    .filter((d) => {
      const key = `${d.registry.url}\u0000${d.subject}\u0000${d.role}\u0000${d.schema}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
  const verdicts: SchemaVerdict[] = [];
  for (const d of declared) verdicts.push(await check(d));
  const ok = verdicts.every((v) => v.outcome !== 'incompatible' && v.outcome !== 'error');
  if (parsed.values.json) process.stdout.write(`${JSON.stringify({ file, compatible: ok, schemas: verdicts })}\n`);
  else process.stdout.write(report(file, verdicts, ok));
  return ok ? EXIT.OK : EXIT.JOB_FAILED;
}

async function check(d: DeclaredSchema): Promise<SchemaVerdict> {
  const v: SchemaVerdict = { subject: d.subject, role: d.role, format: d.format, registry: d.registry.url, level: undefined, outcome: 'compatible', versions: [], problems: [] };
  try {
    v.level = await d.registry.compatibilityLevel(d.subject);
    const numbers = await d.registry.versions(d.subject);
    if (numbers.length === 0) return { ...v, outcome: 'new subject' };
    if (d.schemaType !== 'AVRO') return { ...v, outcome: 'not checked', note: `${d.schemaType} compatibility is not checked (Avro only)` };
    const transitive = v.level.endsWith('_TRANSITIVE');
    const wanted = transitive ? numbers : numbers.slice(-1);
    const versions: Array<{ version: number; schema: string }> = [];
    for (const n of wanted) {
      const r = await d.registry.version(d.subject, n);
      if (r) versions.push({ version: r.version, schema: r.schema });
    }
    v.versions = versions.map((x) => x.version);
    if (d.role === 'writer' && versions.some((x) => sameSchema(x.schema, d.schema))) return { ...v, outcome: 'registered' };
    // A reader must read what the subject's writers wrote: BACKWARD from its side, whatever the level's direction.
    const level: CompatibilityLevel = d.role === 'reader' ? (v.level === 'NONE' ? 'NONE' : transitive ? 'BACKWARD_TRANSITIVE' : 'BACKWARD') : v.level;
    v.problems = checkAvroCompatibility(d.schema, versions, level);
    return { ...v, outcome: v.problems.length > 0 ? 'incompatible' : 'compatible' };
  } catch (e) {
    return { ...v, outcome: 'error', note: (e as Error).message.split('\n')[0] };
  }
}

function sameSchema(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function report(file: string, verdicts: SchemaVerdict[], ok: boolean): string {
  if (verdicts.length === 0) return `schema check ${file}: the job declares no schema under a registry subject (nothing to check)\n`;
  const lines = [`schema check ${file}: ${verdicts.length} schema${verdicts.length === 1 ? '' : 's'}`];
  for (const v of verdicts) {
    const mark = v.outcome === 'incompatible' || v.outcome === 'error' ? '✗' : v.outcome === 'not checked' ? '-' : '✓';
    const against = v.versions.length === 0 ? '' : ` with version${v.versions.length === 1 ? '' : 's'} ${v.versions.join(', ')}`;
    const what: Record<SchemaVerdict['outcome'], string> = {
      compatible: `compatible${against} under ${v.level}`,
      incompatible: `INCOMPATIBLE${against} under ${v.level}`,
      'new subject': 'new subject: no version registered yet, nothing to compare with',
      registered: `already registered (version ${v.versions.at(-1)}), under ${v.level}`,
      'not checked': `not checked: ${v.note}`,
      error: `the registry could not be asked: ${v.note}`,
    };
    lines.push(`  ${mark} ${v.subject} (${v.role}, ${v.format}, ${v.registry}): ${what[v.outcome]}`);
    for (const p of v.problems) {
      lines.push(`      version ${p.version}: ${p.direction === 'new reads old' ? `this schema cannot read data written with version ${p.version}` : `readers on version ${p.version} cannot read data written with this schema`}: ${p.reason}`);
    }
  }
  lines.push(ok ? 'every schema is compatible' : 'some schemas are not compatible: deploying this job would fail or break readers');
  return `${lines.join('\n')}\n`;
}
