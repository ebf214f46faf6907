import type { SchemaRegistryClient } from './schema-registry.js';

/** A schema a job uses under a registry subject: what `sluice schema check` compares with the registry. */
export interface DeclaredSchema {
  readonly registry: SchemaRegistryClient;
  readonly subject: string;
  /** The schema's text, as it would be registered. */
  readonly schema: string;
  readonly schemaType: 'AVRO' | 'PROTOBUF' | 'JSON';
  /** `'writer'`: a sink registers and writes it; `'reader'`: a source reads into it. */
  readonly role: 'writer' | 'reader';
  /** The format that declared it ('confluent-avro', …). */
  readonly format: string;
}

// On globalThis: a job file may load the formats through another path to the same code
// (a relative import, the package's entry) than the command that reads the list.
const declared: DeclaredSchema[] = ((globalThis as { [k: symbol]: DeclaredSchema[] | undefined })[Symbol.for('sluice.declaredSchemas')] ??= []);

/**
 * Records a schema a format was made with, for `sluice schema check`: the command loads
 * the job file (which makes its formats) and reads {@link declaredSchemas}. Formats call
 * this; a job does not.
 */
export function declareSchema(s: DeclaredSchema): void {
  declared.push(s);
}

/**
 * Every schema declared in this process so far, in order.
 *
 * @example
 * await import(jobFile);
 * for (const s of declaredSchemas()) console.log(s.subject, s.role);
 */
export function declaredSchemas(): readonly DeclaredSchema[] {
  return declared;
}
