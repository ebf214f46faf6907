/**
 * The CEP benchmark's events (bench/cep-events.ts) and their Java port for the Flink CEP and
 * Esper peers (bench/peers/cep-events): the same keys, kinds and timestamps, checked through
 * the checksum bench:cep also compares at each run. Compiles the port with javac (no Maven).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, fraudEvent, monitoringEvent } from '../../bench/cep-events.js';
import { peerChoice } from '../../bench/cep-peers.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cep-events-'));
const java = (workload: string, n: number, keys: number): number =>
  Number(execFileSync('java', ['-cp', dir, 'sluice.cepevents.CepEvents', workload, String(n), String(keys)], { encoding: 'utf8' }).trim());

beforeAll(() => {
  execFileSync('javac', ['-d', dir, 'bench/peers/cep-events/src/main/java/sluice/cepevents/CepEvents.java']);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CEP benchmark events', () => {
  it('are the same in the Java port, for both workloads and key counts that do not divide 30 s evenly', () => {
    for (const keys of [100_000, 37]) {
      expect(java('fraud', 20_000, keys)).toBe(fingerprint(fraudEvent, 20_000, keys));
      expect(java('monitoring', 20_000, keys)).toBe(fingerprint(monitoringEvent, 20_000, keys));
    }
  }, 120_000);

  it('make every kind the workloads look for, each key every 30 s of event time', () => {
    const kinds = new Set(Array.from({ length: 1000 }, (_, i) => fraudEvent(i, 10).kind));
    expect([...kinds].some((k) => k < 10) && kinds.has(100) && kinds.has(1000)).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, (_, i) => monitoringEvent(i, 10).kind))).toEqual(new Set([0, 1, 2]));
    expect([0, 10, 20].map((i) => monitoringEvent(i, 10))).toMatchObject([{ key: 0, at: 0 }, { key: 0, at: 30_000 }, { key: 0, at: 60_000 }]);
  });

  it('a fingerprint changes with the events', () => {
    expect(fingerprint(fraudEvent, 1000, 10)).not.toBe(fingerprint(fraudEvent, 1000, 11));
  });
});

describe('bench:cep --peers', () => {
  it('names none, one, or all of the peers, and refuses others', () => {
    expect(peerChoice('none')).toEqual([]);
    expect(peerChoice('all')).toEqual(['flink', 'esper']);
    expect(peerChoice('esper')).toEqual(['esper']);
    expect(() => peerChoice('kafka')).toThrow(/'kafka' is not one of none, flink, esper, all/);
    expect(() => peerChoice('constructor')).toThrow(/not one of/);
  });
});
