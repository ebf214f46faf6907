import avro from 'avsc';
import type { CompatibilityLevel } from './schema-registry.js';

/**
 * Why data written with `writer` cannot be read as `reader` under Avro's schema
 * resolution (avsc's resolver: fields matched by name or alias, defaults for fields the
 * writer lacks, promotions such as int → long), or undefined when it can.
 *
 * @example
 * avroUnreadable(avro.Type.forSchema(v2), avro.Type.forSchema(v1)); // undefined: v2 reads v1's data
 */
export function avroUnreadable(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** One failed direction of a compatibility check: which version could not read which. */
export interface CompatibilityProblem {
  /** `'new reads old'`: the candidate cannot read data of `version`; `'old reads new'`: `version` cannot read the candidate's data. */
  readonly direction: 'new reads old' | 'old reads new';
  /** The registered version checked against. */
  readonly version: number;
  /** avsc's reason. */
  readonly reason: string;
}

/**
 * Checks an Avro `candidate` schema against a subject's registered versions (oldest
 * first) under `level`, as the Confluent Schema Registry defines the levels: BACKWARD,
 * the candidate reads the latest version's data; FORWARD, the latest reads the
 * candidate's; FULL, both; the `_TRANSITIVE` forms against every version, not only the
 * latest; NONE, nothing. Returns the problems found (none: compatible).
 *
 * @example
 * checkAvroCompatibility(JSON.stringify(v3), [{ version: 1, schema: v1Text }, { version: 2, schema: v2Text }], 'BACKWARD_TRANSITIVE');
 */
export function checkAvroCompatibility(candidate: string, versions: ReadonlyArray<{ version: number; schema: string }>, level: CompatibilityLevel): CompatibilityProblem[] {
  if (level === 'NONE' || versions.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const kind = level.replace('_TRANSITIVE', '');
  const against = transitive ? versions : versions.slice(-1);
  const next = avro.Type.forSchema(JSON.parse(candidate) as avro.Schema);
  const problems: CompatibilityProblem[] = [];
  for (const v of against) {
    const old = avro.Type.forSchema(JSON.parse(v.schema) as avro.Schema);
    if (kind === 'BACKWARD' || kind === 'FULL') {
      const reason = avroUnreadable(next, old);
      if (reason !== undefined) problems.push({ direction: 'new reads old', version: v.version, reason });
    }
    if (kind === 'FORWARD' || kind === 'FULL') {
      const reason = avroUnreadable(old, next);
      if (reason !== undefined) problems.push({ direction: 'old reads new', version: v.version, reason });
    }
  }
  return problems;
}
