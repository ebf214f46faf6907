import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { errorsJob } from '../fixtures/jobs/observed-jobs.js';

const root = new URL('../../', import.meta.url).pathname;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('deploy/prometheus/alerts.yml', () => {
  const doc = parse(readFileSync(`${root}deploy/prometheus/alerts.yml`, 'utf8'), { strict: true, prettyErrors: true }) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('parses as YAML in the shape of Prometheus rule files', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    for (const g of doc.groups) expect(typeof g.name).toBe('string');
    for (const r of rules) {
      expect(r.alert).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(typeof r.expr).toBe('string');
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smhd]$/);
      expect(r.labels?.severity).toMatch(/^(critical|warning|info)$/);
      expect(r.annotations?.summary).toBeTruthy();
      // Balanced parentheses and braces in the PromQL.
      for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) {
        expect(r.expr.split(open).length, `${r.alert}: ${open}${close}`).toBe(r.expr.split(close).length);
      }
    }
  });

  it('covers consumer lag, failing checkpoints, error rate and a stalled watermark', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining(['SluiceConsumerLagGrowing', 'SluiceCheckpointsFailing', 'SluiceErrorRateHigh', 'SluiceWatermarkStalled']));
  });

  it('uses only metric names that a job exports', async () => {
    const { job } = errorsJob();
    const run = job.start();
    await run.done;
    const exported = new Set(run.monitor.registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name));
    const used = new Set(rules.flatMap((r) => r.expr.match(/\bsluice_[a-z_]+/g) ?? []));
    for (const name of used) expect(exported, name).toContain(name);
  });
});
