import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, mapState, subtaskForKey, valueState, type KeyedBroadcastProcessFunction, type ValueState } from '../../src/index.js';
import { collecting, pushSource, settle } from '../helpers.js';

const modes = mapState<string, string>('modes');

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await settle(5);
    if (i > 50) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Clicks and broadcast `[prefix, mode]` rules, through a savepoint. Push sources cannot
 * replay, so the job runs with `delivery: 'none'`: the savepoint carries the step's
 * state, and the restored job gets only new records (no rule is sent again).
 */
function modesJob(dir: string, parallelism: number, fn: KeyedBroadcastProcessFunction<string, { user: string }, [string, string], string>) {
  const job = new Job({ name: 'modes', batchSize: 1, parallelism, delivery: 'none', checkpoints: { interval: '1h', dir: join(dir, 'checkpoints') } });
  const clicks = pushSource<{ user: string }>();
  const rules = pushSource<[string, string]>();
  const { sink, out } = collecting<string>();
  job
    .source(clicks.source, { uid: 'clicks' })
    .keyBy('user')
    .connect(job.source(rules.source, { uid: 'rules' }).broadcast(modes))
    .process(fn, { uid: 'modes' })
    .sinkTo(sink, { uid: 'out' });
  return { job, clicks, rules, out };
}

const modeOf = (ctx: { key: string; getBroadcastState: (d: typeof modes) => { get(k: string): string | undefined } }) =>
  ctx.getBroadcastState(modes).get(ctx.key[0]!) ?? 'none';

describe('broadcast state in savepoints', () => {
  it('keyed state and broadcast state come back after stop-with-savepoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-broadcast-'));
    const counting = (): KeyedBroadcastProcessFunction<string, { user: string }, [string, string], string> => {
      let count!: ValueState<number>;
      return {
        open(ctx) {
          count = ctx.state(valueState<number>('count'));
        },
        processElement(_c, ctx, out) {
          count.update((count.value() ?? 0) + 1);
          out.collect(`${ctx.key} n=${count.value()} ${modeOf(ctx)}`);
        },
        processBroadcastElement([prefix, mode], ctx, out) {
          ctx.getBroadcastState(modes).put(prefix, mode);
          out.collect(`rule ${prefix}`);
        },
      };
    };
    const first = modesJob(dir, 1, counting());
    const running = first.job.start();
    first.rules.push([['u', 'strict']]);
    await until(() => first.out.values.length === 1, 'the rule');
    first.clicks.push([{ user: 'u1' }, { user: 'u1' }, { user: 'v1' }]);
    await until(() => first.out.values.length === 4, 'the clicks');
    await running.stopWithSavepoint(join(dir, 'savepoint'));
    await running.done;
    expect(first.out.values).toEqual(['rule u', 'u1 n=1 strict', 'u1 n=2 strict', 'v1 n=1 none']);

    const second = modesJob(dir, 1, counting());
    const resumed = second.job.start({ fromSavepoint: join(dir, 'savepoint') });
    second.clicks.push([{ user: 'u1' }, { user: 'v1' }, { user: 'u2' }]);
    second.clicks.end();
    second.rules.end();
    await expect(resumed.done).resolves.toEqual({ status: 'finished' });
    expect(second.out.values).toEqual(['u1 n=3 strict', 'v1 n=2 none', 'u2 n=1 strict']);
  });

  // Restored at another parallelism (worker threads): see 'broadcast state survives rescaling' in test/runtime/parallel.test.ts.
});
