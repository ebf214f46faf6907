import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, SluiceError, describeRecord, type ErrorCodeInfo } from '../../src/errors/index.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const CATALOG_FILE = 'errors/catalog.ts';

/**
 * Strings in src/ that look like error codes but are codes of other systems, with where
 * they come from. Anything else in UPPER_SNAKE_CASE must be a catalog code.
 */
const OTHER_CODES: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  UNABLE_TO_GET_ISSUER_CERT: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  CERT_SIGNATURE_FAILURE: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  HOSTNAME_MISMATCH: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  CERT_HAS_EXPIRED: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  CERT_NOT_YET_VALID: 'a Node.js / OpenSSL certificate verification code (connectors/shared/tls-error.ts classifies it)',
  CONCURRENT_TRANSACTIONS: 'a Kafka protocol error (connectors/kafka/transactions.ts retries it)',
  COORDINATOR_LOAD_IN_PROGRESS: 'a Kafka protocol error',
  COORDINATOR_NOT_AVAILABLE: 'a Kafka protocol error',
  NOT_COORDINATOR: 'a Kafka protocol error',
  REQUEST_TIMED_OUT: 'a Kafka protocol error',
  PRODUCER_FENCED: 'a Kafka protocol error (a fenced transactional producer)',
  INVALID_PRODUCER_EPOCH: 'a Kafka protocol error (a fenced transactional producer)',
  UNSTABLE_OFFSET_COMMIT: 'a Kafka protocol error (offsets held by an open transaction; cluster/member.ts waits it out)',
  ILLEGAL_GENERATION: 'a Kafka protocol error (a commit of a group generation that has moved on: cluster/member.ts restarts as after a rebalance)',
  UNKNOWN_MEMBER_ID: 'a Kafka protocol error (a commit of a member the group no longer has: cluster/member.ts restarts as after a rebalance)',
  REBALANCE_IN_PROGRESS: 'a Kafka protocol error (a commit while the group rebalances: cluster/member.ts restarts as after a rebalance)',
  TOPIC_ALREADY_EXISTS: 'a Kafka protocol error (a member that loses the race to create an internal topic: cluster/internal-topics.ts checks the winner’s)',
  INVALID_REPLICATION_FACTOR: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  INVALID_PARTITIONS: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  INVALID_CONFIG: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  POLICY_VIOLATION: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  TOPIC_AUTHORIZATION_FAILED: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  CLUSTER_AUTHORIZATION_FAILED: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  INVALID_TOPIC_EXCEPTION: 'a Kafka protocol error (cluster/internal-topics.ts does not retry it)',
  ERR_MODULE_NOT_FOUND: "Node's code for an import that finds no module (a missing optional client, a job file's bad import)",
  MODULE_NOT_FOUND: "Node's code for a require() that finds no module",
  ERR_UNKNOWN_FILE_EXTENSION: "Node's code for a job file of an extension it cannot load",
  SLUICE_FILE_TRUNCATED: "the code of the file source's process warning when a followed file shrinks (not an error)",
  BACKWARD_TRANSITIVE: "a schema registry's compatibility level (formats/schema-registry.ts)",
  FORWARD_TRANSITIVE: "a schema registry's compatibility level (formats/schema-registry.ts)",
  FULL_TRANSITIVE: "a schema registry's compatibility level (formats/schema-registry.ts)",
  TRIM_HORIZON: 'a Kinesis shard iterator type (connectors/kinesis/source.ts)',
  AFTER_SEQUENCE_NUMBER: 'a Kinesis shard iterator type (connectors/kinesis/source.ts)',
  PLT_KFK_AUTHENTICATION: "the Kafka client's error code for refused SASL credentials (connectors/kafka/client.ts maps it to CONNECTOR_AUTH)",
  ERR_TLS_CERT_ALTNAME_INVALID: "Node's code for a server certificate of another host name (net/tls.ts maps it to CONNECTOR_TLS)",
  SLUICE_INGEST_LOG_COMPACTED: "the code of the HTTP source's process warning when it resumes from a checkpoint older than its log's compaction (not an error)",
};

const entries = Object.entries(ERROR_CATALOG) as [string, ErrorCodeInfo][];
const catalog = new Map(entries);
const looksLikeCode = (text: string): boolean => /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(text) || catalog.has(text);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/**
 * Every string literal in src/ (outside the catalog) that looks like an error code, with
 * the files it is in. Read from the syntax tree, so comments do not count, and a code
 * counts wherever it is written: thrown (`new SluiceError('CODE', …)`, on any line),
 * picked (`cond ? 'SINK_FAILED' : 'SOURCE_FAILED'`), sent (a REST error body), compared.
 */
function codesInSrc(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path);
    if (file === CATALOG_FILE) continue;
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && looksLikeCode(node.text)) {
        const files = used.get(node.text) ?? [];
        if (!files.includes(file)) files.push(file);
        used.set(node.text, files);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return used;
}

const used = codesInSrc();
// The test kit asserts codes (a suite expects STATE_OUTSIDE_KEY); that is no place a code comes from.
const usedOutsideTestKit = (code: string): string[] => (used.get(code) ?? []).filter((f) => !f.startsWith('testing/'));

describe('ERROR_CATALOG', () => {
  it('has codes in UPPER_SNAKE_CASE', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code] of entries) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it.each(entries)('%s has a description, a hint, a domain and retry advice', (_code, info) => {
    expect(info.description.trim().length).toBeGreaterThan(10);
    expect(info.hint.trim().length).toBeGreaterThan(5);
    expect(['user', 'external', 'internal']).toContain(info.domain);
    expect(['none', 'backoff']).toContain(info.retry);
    if (info.reserved !== undefined) expect(info.reserved.trim().length).toBeGreaterThan(20);
  });

  it('finds codes in src/ (or the checks below prove nothing)', () => {
    expect(used.size).toBeGreaterThan(20);
    expect(usedOutsideTestKit('USER_FUNCTION_FAILED').length).toBeGreaterThan(0);
  });

  it('every code is thrown or constructed somewhere in src/, or is marked reserved with the reason', () => {
    const unused = entries.filter(([code, info]) => info.reserved === undefined && usedOutsideTestKit(code).length === 0).map(([code]) => code);
    expect(unused, 'use these codes in src/, or mark them `reserved` in the catalog with the reason, or remove them').toEqual([]);
  });

  it('no reserved code is used in src/ (else it is no longer reserved)', () => {
    const inUse = entries
      .filter(([code, info]) => info.reserved !== undefined && usedOutsideTestKit(code).length > 0)
      .map(([code]) => `${code} (${usedOutsideTestKit(code).join(', ')})`);
    expect(inUse, 'drop `reserved` from these codes').toEqual([]);
  });

  it('every code src/ uses is in the catalog (and so documented), or is a code of another system', () => {
    const missing = [...used].filter(([code]) => !catalog.has(code) && !(code in OTHER_CODES)).map(([code, files]) => `${code} (${files.join(', ')})`);
    expect(missing, 'add these codes to src/errors/catalog.ts, or to OTHER_CODES here if they are not Sluice errors').toEqual([]);
  });

  it('OTHER_CODES lists only codes that src/ uses and the catalog does not have', () => {
    for (const code of Object.keys(OTHER_CODES)) {
      expect(catalog.has(code), `${code} is a catalog code`).toBe(false);
      expect(used.has(code), `${code} is no longer used in src/`).toBe(true);
    }
  });
});

describe('SluiceError', () => {
  it('takes domain, retry and hint from the catalog, and shows code, detail and hint', () => {
    const e = new SluiceError('SINK_FAILED', "step 'out' could not write", { step: 'out', detail: 'EACCES' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SluiceError');
    expect(e.code).toBe('SINK_FAILED');
    expect(e.domain).toBe('external');
    expect(e.retry).toBe('backoff');
    expect(e.step).toBe('out');
    expect(e.detail).toBe('EACCES');
    expect(e.hint).toBe(ERROR_CATALOG.SINK_FAILED.hint);
    expect(e.message).toBe(`[SINK_FAILED] step 'out' could not write\n  detail: EACCES\n  hint: ${ERROR_CATALOG.SINK_FAILED.hint}`);
  });

  it('a given hint overrides the catalog one; a cause is kept', () => {
    const cause = new Error('root');
    const e = new SluiceError('INVALID_JOB', 'x', { hint: 'do this', cause });
    expect(e.hint).toBe('do this');
    expect(e.message).toContain('hint: do this');
    expect(e.cause).toBe(cause);
  });
});

describe('describeRecord', () => {
  it('renders JSON, bigints, undefined and cyclic objects', () => {
    expect(describeRecord({ a: 1 })).toBe('{"a":1}');
    expect(describeRecord(5n)).toBe('5n');
    expect(describeRecord({ n: 5n })).toBe('{"n":"5n"}');
    expect(describeRecord(undefined)).toBe('undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeRecord(cyclic)).toBe('[object Object]');
  });

  it('cuts long records and says how long they were', () => {
    const text = describeRecord('y'.repeat(300), 50);
    expect(text).toBe(`"${'y'.repeat(49)}… (302 chars)`);
  });
});
