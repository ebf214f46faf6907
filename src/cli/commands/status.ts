import { call, resolveJob } from '../client.js';
import { EXIT } from '../exit-codes.js';
import { table } from './list.js';
import { remoteCommand, URL_OPTION_HELP } from './remote-args.js';

export const STATUS_HELP = `Usage: sluice status [job] [--url URL] [--json]

Shows a running job: status, restarts, the last checkpoint, and per step records in
and out, rates, watermark lag, late records, errors and latency. Without a job name,
the only job that answers.

Options:
  --json          the job and its metrics as JSON
${URL_OPTION_HELP}

Exit codes: 0 shown, 4 no such job answers.`;

interface Metrics {
  rates: Record<string, { inPerSec: number; outPerSec: number }>;
  snapshot: {
    steps: Array<{ uid: string; kind: string; recordsIn: number; recordsOut: number; watermarkLagMs: number | null; lateDropped: number; lateToSideOutput: number; errors: number; latencyMs: { p99: number } | null }>;
    checkpoints: { completed: number; failed: number; last?: { checkpointId: number; status: string; durationMs: number } };
  };
}

export function statusCommand(argv: string[]): Promise<number> {
  return remoteCommand(argv, STATUS_HELP, { json: { type: 'boolean' } }, async (name, url, values) => {
    const job = await resolveJob(name, url);
    const metrics = await call<Metrics>(job, '/metrics');
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ job, metrics })}\n`);
      return EXIT.OK;
    }
    const cp = metrics.snapshot.checkpoints;
    const last = cp.last ? `last ${cp.last.checkpointId} ${cp.last.status} in ${cp.last.durationMs}ms` : 'none yet';
    process.stdout.write(`job ${job.id}: ${job.status}, up ${((Date.now() - job.startedAt) / 1000).toFixed(0)}s, ${job.restarts} restart(s), checkpoints ${cp.completed} ok / ${cp.failed} failed (${last}), ${job.url}\n\n`);
    const rows = metrics.snapshot.steps.map((s) => {
      const r = metrics.rates[s.uid] ?? { inPerSec: 0, outPerSec: 0 };
      return [
        s.uid,
        s.kind,
        String(s.recordsIn),
        String(s.recordsOut),
        r.inPerSec.toFixed(0),
        r.outPerSec.toFixed(0),
        s.watermarkLagMs === null ? '-' : `${s.watermarkLagMs}ms`,
        String(s.lateDropped + s.lateToSideOutput),
        String(s.errors),
        s.latencyMs ? `${s.latencyMs.p99}ms` : '-',
      ];
    });
    process.stdout.write(table(['STEP', 'KIND', 'IN', 'OUT', 'IN/S', 'OUT/S', 'WM LAG', 'LATE', 'ERRORS', 'P99'], rows));
    return EXIT.OK;
  });
}
