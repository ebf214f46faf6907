import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Job,
  OutputTag,
  SluiceError,
  fromCollection,
  listState,
  mapState,
  valueState,
  type BroadcastProcessFunction,
  type BroadcastConnectedStream,
  type BroadcastState,
  type BroadcastStream,
  type ConnectedKeyedStreams,
  type ConnectedStreams,
  DataStream,
  type KeyedBroadcastConnectedStream,
  type KeyedBroadcastProcessFunction,
  type ListState,
  type ValueState,
} from '../../src/index.js';
import { OperatorHarness } from '../../src/testing/index.js';
import { ManualClock } from '../../src/time/clock.js';
import { collecting, pushSource, settle, thrown } from '../helpers.js';

interface Rule {
  kind: string;
  max: number;
}
interface Payment {
  user: string;
  kind: string;
  amount: number;
}

const rules = mapState<string, Rule>('rules');
const ruleList: Rule[] = [
  { kind: 'card', max: 50 },
  { kind: 'wire', max: 20 },
  { kind: 'cash', max: 90 },
];
const payments: Payment[] = Array.from({ length: 60 }, (_, i) => ({ user: `u${i % 7}`, kind: ['card', 'wire', 'cash'][i % 3]!, amount: (i * 37) % 100 }));

/**
 * Runs a job on a ManualClock that nobody advances: only the data drives it. Tests that
 * push records by hand use batches of one, so that no record waits for a flush deadline.
 */
function newJob(opts: ConstructorParameters<typeof Job>[0] = {}): Job {
  return new Job({ clock: new ManualClock(0), ...opts });
}

/** Waits until `cond` holds: a few event-loop turns at a time, then a millisecond (tasks may wait on I/O), up to about 5 s. */
async function until(cond: () => boolean, what: string, seen?: () => unknown): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await settle(5);
    if (i > 50) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`timed out waiting for ${what}${seen ? `; got ${JSON.stringify(seen())}` : ''}`);
}

/**
 * Alerts on payments above their kind's limit. A payment whose rule has not come yet
 * waits in keyed state; the rule, when it comes, looks at every key's waiting payments
 * (applyToKeyedState). So the result does not depend on how the two inputs interleave.
 */
function limits(): KeyedBroadcastProcessFunction<string, Payment, Rule, string> {
  const waiting = listState<Payment>('waiting');
  let pending!: ListState<Payment>;
  const check = (user: string, p: Payment, rule: Rule, out: { collect(s: string): void }) => {
    if (p.amount > rule.max) out.collect(`${user} ${p.kind} ${p.amount}>${rule.max}`);
  };
  return {
    open(ctx) {
      pending = ctx.state(waiting);
    },
    processElement(p, ctx, out) {
      const rule = ctx.getBroadcastState(rules).get(p.kind);
      if (rule === undefined) pending.add(p);
      else check(ctx.key, p, rule, out);
    },
    processBroadcastElement(rule, ctx, out) {
      ctx.getBroadcastState(rules).put(rule.kind, rule);
      ctx.applyToKeyedState(waiting, (user, list) => {
        const still = list.get().filter((p) => {
          if (p.kind !== rule.kind) return true;
          check(user, p, rule, out);
          return false;
        });
        if (still.length === 0) list.clear();
        else list.update(still);
      });
    },
  };
}

describe('keyed broadcast state', () => {
  // The batch answer: every payment above its kind's limit, whenever the rule came.
  const expected = payments
    .filter((p) => p.amount > ruleList.find((r) => r.kind === p.kind)!.max)
    .map((p) => `${p.user} ${p.kind} ${p.amount}>${ruleList.find((r) => r.kind === p.kind)!.max}`)
    .sort();

  it('main records read the rules broadcast to the step, whichever input comes first', async () => {
    for (const batchSize of [1, 7, 1024]) {
      const job = newJob({ batchSize });
      const { sink, out } = collecting<string>();
      const ruleStream = job.source(fromCollection(ruleList), { uid: 'rules' });
      job
        .source(fromCollection(payments), { uid: 'payments' })
        .keyBy('user')
        .connect(ruleStream.broadcast(rules))
        .process(limits(), { uid: 'limits' })
        .sinkTo(sink);
      await expect(job.run()).resolves.toEqual({ status: 'finished' });
      expect([...out.values].sort()).toEqual(expected);
    }
  });

  // At parallelism above 1 (worker threads), see 'broadcast state reaches every subtask' in test/runtime/parallel.test.ts.

  it('a changed rule applies to the records after it', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<string>();
    const ruleSrc = pushSource<Rule>();
    const paySrc = pushSource<Payment>();
    const fn: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
      processElement(p, ctx, out) {
        const rule = ctx.getBroadcastState(rules).get(p.kind);
        out.collect(`${ctx.key} ${p.amount} ${rule === undefined ? 'no rule' : p.amount > rule.max ? 'alert' : 'ok'}`);
      },
      processBroadcastElement(rule, ctx, out) {
        ctx.getBroadcastState(rules).put(rule.kind, rule);
        out.collect(`rule ${rule.kind}<=${rule.max}`);
      },
    };
    job
      .source(paySrc.source, { uid: 'payments' })
      .keyBy('user')
      .connect(job.source(ruleSrc.source, { uid: 'rules' }).broadcast(rules))
      .process(fn, { uid: 'limits' })
      .sinkTo(sink);
    const running = job.start();
    const step = async (n: number) => until(() => out.values.length >= n, `${n} outputs`);

    paySrc.push([{ user: 'a', kind: 'card', amount: 30 }]);
    await step(1);
    ruleSrc.push([{ kind: 'card', max: 50 }]);
    await step(2);
    paySrc.push([{ user: 'a', kind: 'card', amount: 60 }, { user: 'b', kind: 'card', amount: 40 }]);
    await step(4);
    ruleSrc.push([{ kind: 'card', max: 35 }]);
    await step(5);
    paySrc.push([{ user: 'b', kind: 'card', amount: 40 }]);
    await step(6);
    paySrc.end();
    ruleSrc.end();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
    expect(out.values).toEqual(['a 30 no rule', 'rule card<=50', 'a 60 alert', 'b 40 ok', 'rule card<=35', 'b 40 alert']);
  });

  it('applyToKeyedState visits every key that has the state, and may change or clear it', async () => {
    // Written for any parallelism (each subtask answers for its own keys), run at 1: the
    // function keeps a state handle from open(), which subtasks in one thread would share.
    // broadcast-operator.test.ts covers parallel instances, each with its own function.
    const parallelism = 1;
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<string>();
    const commands = pushSource<string>();
    const clicks = pushSource<{ user: string }>();
    const countState = valueState<number>('count');
    const commandsSeen = mapState<string, number>('commands-seen');
    const fn = (): KeyedBroadcastProcessFunction<string, { user: string }, string, string> => {
      let count!: ValueState<number>;
      return {
        open(ctx) {
          count = ctx.state(countState);
        },
        processElement(_c, ctx, out) {
          count.update((count.value() ?? 0) + 1);
          out.collect(`click ${ctx.key}`);
        },
        processBroadcastElement(command, ctx, out) {
          const seen = ctx.getBroadcastState(commandsSeen);
          seen.put(command, (seen.get(command) ?? 0) + 1);
          const visited: string[] = [];
          ctx.applyToKeyedState(countState, (user, state) => {
            visited.push(`${user}=${state.value()}`);
            if (command === 'reset-odd' && (state.value() ?? 0) % 2 === 1) state.clear();
            if (command === 'double') state.update(state.value()! * 2);
          });
          out.collect(`${command} #${seen.get(command)}: ${visited.join(' ')}`);
        },
      };
    };
    job
      .source(clicks.source, { uid: 'clicks' })
      .keyBy('user')
      .connect(job.source(commands.source, { uid: 'commands' }).broadcast(commandsSeen))
      .process(fn(), { uid: 'counts' })
      .sinkTo(sink);
    const running = job.start();
    /** What the subtasks answered to the n-th command: every subtask answers, for its own keys. */
    const answers = async (command: string, n: number): Promise<string[]> => {
      const prefix = `${command} #${n}:`;
      await until(() => out.values.filter((v) => v.startsWith(prefix)).length === parallelism, `${prefix} from ${parallelism} subtask(s)`);
      return out.values
        .filter((v) => v.startsWith(prefix))
        .flatMap((v) => v.slice(prefix.length).trim().split(' '))
        .filter(Boolean)
        .sort();
    };

    const users = ['a', 'b', 'b', 'c', 'c', 'c', 'd', 'd', 'd', 'd'];
    clicks.push(users.map((user) => ({ user })));
    await until(() => out.values.length === users.length, `the clicks at parallelism ${parallelism}`, () => out.values);
    commands.push(['report']);
    expect(await answers('report', 1)).toEqual(['a=1', 'b=2', 'c=3', 'd=4']);
    commands.push(['reset-odd']);
    expect(await answers('reset-odd', 1)).toEqual(['a=1', 'b=2', 'c=3', 'd=4']);
    commands.push(['double']);
    // a and c were cleared: only keys that still have state are visited
    expect(await answers('double', 1)).toEqual(['b=2', 'd=4']);
    commands.push(['report']);
    expect(await answers('report', 2)).toEqual(['b=4', 'd=8']);
    clicks.end();
    commands.end();
    await expect(running.done).resolves.toEqual({ status: 'finished' });
  });

  it('onTimer reads broadcast state; the timer and broadcast records emit with their timestamps', async () => {
    const job = newJob();
    const { sink, out } = collecting<string>();
    const fn: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
      processElement(p, ctx) {
        ctx.timerService.registerEventTimeTimer(ctx.timestamp! + 10);
      },
      onTimer(ts, ctx, out) {
        const kinds = ctx.getBroadcastState(rules).keys().sort();
        out.collect(`${ctx.key}@${ts} ${ctx.timeDomain} sees ${kinds.join(',')}`);
      },
      processBroadcastElement(rule, ctx, out) {
        ctx.getBroadcastState(rules).put(rule.kind, rule);
        out.collect(`rule ${rule.kind}@${ctx.timestamp}`);
      },
    };
    job
      .source(fromCollection([{ user: 'a', kind: 'card', amount: 1 }], { timestamps: () => 100 }), { uid: 'payments' })
      .keyBy('user')
      .connect(job.source(fromCollection(ruleList, { timestamps: (r) => r.max }), { uid: 'rules' }).broadcast(rules))
      .process(fn, { uid: 'timers' })
      .sinkTo(sink);
    await job.run();
    // Both inputs end, the final watermark fires the timer: every rule has come by then.
    expect(out.values).toEqual(['rule card@50', 'rule wire@20', 'rule cash@90', 'a@110 event-time sees card,cash,wire']);
    expect(out.timestamps).toEqual([50, 20, 90, 110]);
  });

  it('both handlers can send to side outputs', async () => {
    const job = newJob();
    const main = collecting<string>();
    const audit = collecting<string>();
    const auditTag = new OutputTag<string>('audit');
    const fn: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
      processElement(p, ctx, out) {
        ctx.output(auditTag, `payment ${p.user}`);
        out.collect(p.user);
      },
      processBroadcastElement(rule, ctx) {
        ctx.output(auditTag, `rule ${rule.kind}`);
      },
    };
    const s = job
      .source(fromCollection([{ user: 'a', kind: 'card', amount: 1 }]), { uid: 'payments' })
      .keyBy('user')
      .connect(job.source(fromCollection([ruleList[0]!]), { uid: 'rules' }).broadcast(rules))
      .process(fn, { uid: 'audited' });
    s.sinkTo(main.sink);
    s.sideOutput(auditTag).sinkTo(audit.sink);
    await job.run();
    expect(main.out.values).toEqual(['a']);
    expect([...audit.out.values].sort()).toEqual(['payment a', 'rule card']);
  });
});

describe('broadcast state without keys', () => {
  it('a plain stream reads the broadcast state; a rule that comes late leaves records unmatched (the user chooses)', async () => {
    const job = newJob({ batchSize: 1 });
    const { sink, out } = collecting<string>();
    const words = pushSource<string>();
    const replacements = pushSource<[string, string]>();
    const dict = mapState<string, string>('dict');
    const fn: BroadcastProcessFunction<string, [string, string], string> = {
      processElement(w, ctx, out) {
        out.collect(ctx.getBroadcastState(dict).get(w) ?? w);
      },
      processBroadcastElement([from, to], ctx, out) {
        if (to === '') ctx.getBroadcastState(dict).remove(from);
        else ctx.getBroadcastState(dict).put(from, to);
        out.collect(`(${from} -> ${to || from})`);
      },
    };
    job
      .source(words.source, { uid: 'words' })
      .connect(job.source(replacements.source, { uid: 'replacements' }).broadcast(dict))
      .process(fn, { uid: 'replace' })
      .sinkTo(sink);
    const running = job.start();
    words.push(['colour']);
    await until(() => out.values.length === 1, 'the first word');
    replacements.push([['colour', 'color']]);
    await until(() => out.values.length === 2, 'the replacement');
    words.push(['colour', 'grey']);
    await until(() => out.values.length === 4, 'two words');
    replacements.push([['colour', '']]);
    await until(() => out.values.length === 5, 'the removal');
    words.push(['colour']);
    words.end();
    replacements.end();
    await running.done;
    expect(out.values).toEqual(['colour', '(colour -> color)', 'color', 'grey', '(colour -> colour)', 'colour']);
  });

  it('declaring keyed state in open() fails: the main input is not keyed', async () => {
    const job = newJob();
    const fn: BroadcastProcessFunction<number, Rule, number> = {
      open(ctx) {
        ctx.state(valueState<number>('n'));
      },
      processElement: (n, _ctx, out) => out.collect(n),
      processBroadcastElement: () => {},
    };
    job.source(fromCollection([1]), { uid: 'n' }).connect(job.source(fromCollection(ruleList), { uid: 'rules' }).broadcast(rules)).process(fn, { uid: 'p' }).sinkTo(collecting<number>().sink);
    await expect(job.run()).rejects.toMatchObject({ code: 'STATE_OUTSIDE_KEY', step: 'p' });
  });
});

describe('broadcast state is read only where records are keyed', () => {
  it('connect() gives a broadcast-connected stream for a broadcast stream, and the usual connected streams otherwise', () => {
    const job = newJob();
    const ruleStream = job.source(fromCollection(ruleList), { uid: 'rules' });
    const pays = job.source(fromCollection(payments), { uid: 'payments' });
    const b = ruleStream.broadcast(rules);
    expectTypeOf(b).toEqualTypeOf<BroadcastStream<Rule>>();
    expectTypeOf(pays.keyBy('user').connect(b)).toEqualTypeOf<KeyedBroadcastConnectedStream<Payment, Rule, string>>();
    expectTypeOf(pays.connect(b)).toEqualTypeOf<BroadcastConnectedStream<Payment, Rule>>();
    expectTypeOf(pays.connect(ruleStream)).toEqualTypeOf<ConnectedStreams<Payment, Rule>>();
    expectTypeOf(pays.keyBy('user').connect(ruleStream.keyBy('kind'))).toEqualTypeOf<ConnectedKeyedStreams<Payment, Rule, string>>();
    expectTypeOf(pays.keyBy('user').connect(b).process<string>(limits(), { uid: 'l' })).toEqualTypeOf<DataStream<string>>();
    const wrong = () => {
      const onClicks: KeyedBroadcastProcessFunction<string, { page: string }, Rule, string> = { processElement: () => {}, processBroadcastElement: () => {} };
      // @ts-expect-error a function over clicks cannot take payments
      pays.keyBy('user').connect(b).process(onClicks, { uid: 'x' });
      // @ts-expect-error the step keeps state: the uid is required
      pays.keyBy('user').connect(b).process(limits());
      // @ts-expect-error broadcast() takes map state descriptors
      ruleStream.broadcast(valueState<number>('n'));
    };
    expectTypeOf(wrong).toBeFunction();
  });

  it('the types refuse a write from processElement and onTimer', () => {
    // Compiled, never called: only the type checker's verdict matters here.
    const refused: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
      processElement(p, ctx) {
        ctx.getBroadcastState(rules).get(p.kind);
        // @ts-expect-error broadcast state is read only in processElement
        ctx.getBroadcastState(rules).put(p.kind, { kind: p.kind, max: 0 });
        // @ts-expect-error no remove either
        ctx.getBroadcastState(rules).remove(p.kind);
        // @ts-expect-error nor clear
        ctx.getBroadcastState(rules).clear();
      },
      onTimer(_ts, ctx) {
        // @ts-expect-error read only in onTimer too
        ctx.getBroadcastState(rules).put('x', { kind: 'x', max: 0 });
      },
      processBroadcastElement(rule, ctx) {
        ctx.getBroadcastState(rules).put(rule.kind, rule);
        // @ts-expect-error there is no current key for a broadcast record
        void ctx.key;
        // @ts-expect-error nor timers
        void ctx.timerService;
      },
    };
    const plain: BroadcastProcessFunction<number, Rule, number> = {
      processElement(_n, ctx) {
        // @ts-expect-error read only without keys as well
        ctx.getBroadcastState(rules).putAll([]);
      },
      processBroadcastElement(rule, ctx) {
        ctx.getBroadcastState(rules).putAll([[rule.kind, rule]]);
      },
    };
    expect(refused.processElement).toBeTypeOf('function');
    expect(plain.processElement).toBeTypeOf('function');
  });

  it('a write forced past the types fails the job with BROADCAST_STATE_READ_ONLY naming the step', async () => {
    for (const keyed of [true, false]) {
      const job = newJob();
      const cheat = (state: unknown) => (state as BroadcastState<string, Rule>).put('x', { kind: 'x', max: 0 });
      const ruleStream = job.source(fromCollection(ruleList), { uid: 'rules' }).broadcast(rules);
      const payments = job.source(fromCollection([{ user: 'a', kind: 'card', amount: 1 }]), { uid: 'payments' });
      const fn = {
        processElement: (_p: Payment, ctx: { getBroadcastState: (d: typeof rules) => unknown }) => cheat(ctx.getBroadcastState(rules)),
        processBroadcastElement: () => {},
      };
      const out = keyed ? payments.keyBy('user').connect(ruleStream).process<string>(fn, { uid: 'cheat' }) : payments.connect(ruleStream).process<string>(fn, { uid: 'cheat' });
      out.sinkTo(collecting<string>().sink);
      const e = await job.run().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(SluiceError);
      expect(e).toMatchObject({ code: 'BROADCAST_STATE_READ_ONLY', step: 'cheat' });
      expect((e as SluiceError).message).toContain("step 'cheat': broadcast state 'rules' is read only in processElement and onTimer, but put() was called");
    }
  });

  it('asking for broadcast state that broadcast() did not declare fails with BROADCAST_STATE_UNDECLARED', async () => {
    const job = newJob();
    const other = mapState<string, number>('limits');
    const fn: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
      processElement: () => {},
      processBroadcastElement: (_r, ctx) => ctx.getBroadcastState(other).put('x', 1),
    };
    job
      .source(fromCollection<Payment>([]), { uid: 'payments' })
      .keyBy('user')
      .connect(job.source(fromCollection(ruleList), { uid: 'rules' }).broadcast(rules))
      .process(fn, { uid: 'typo' })
      .sinkTo(collecting<string>().sink);
    const e = await job.run().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ code: 'BROADCAST_STATE_UNDECLARED', step: 'typo' });
    expect((e as Error).message).toContain("step 'typo': broadcast state 'limits' was not declared; this step's broadcast states are 'rules'");
  });
});

describe('building a broadcast step', () => {
  const noop: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = { processElement: () => {}, processBroadcastElement: () => {} };
  const codeOf = (fn: () => unknown): string => (thrown(fn) as SluiceError).code;

  it('broadcast() takes one or more map state descriptors, without TTL, with distinct names', () => {
    const s = newJob().source(fromCollection(ruleList), { uid: 'rules' });
    expect(s.broadcast()).toBeInstanceOf(DataStream); // broadcast partitioning, no state
    expect(codeOf(() => s.broadcast(valueState<number>('v') as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s.broadcast(mapState<string, Rule>('r', { ttl: { ttl: '1h' } })))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s.broadcast(rules, mapState<string, number>('rules')))).toBe('INVALID_ARGUMENT');
    const b = s.broadcast(rules, mapState<string, number>('limits'));
    expect(b.descriptors.map((d) => d.name)).toEqual(['rules', 'limits']);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it('the step keeps state, so it needs a uid; the function needs both handlers; both streams must be of one job', () => {
    const job = newJob();
    const b = job.source(fromCollection(ruleList), { uid: 'rules' }).broadcast(rules);
    const keyed = job.source(fromCollection<Payment>([]), { uid: 'payments' }).keyBy('user');
    expect(codeOf(() => keyed.connect(b).process(noop, {} as never))).toBe('MISSING_UID');
    expect(codeOf(() => keyed.connect(b).process({ processElement: () => {} } as never, { uid: 'x' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => keyed.stream.connect(b).process({ processBroadcastElement: () => {} } as never, { uid: 'y' }))).toBe('INVALID_ARGUMENT');
    const elsewhere = newJob().source(fromCollection<Payment>([]), { uid: 'payments' });
    expect(codeOf(() => elsewhere.keyBy('user').connect(b))).toBe('INVALID_JOB');
    expect(codeOf(() => elsewhere.connect(b))).toBe('INVALID_JOB');
  });

  it('explain() shows the keyed edge and the broadcast edge into the step, and its broadcast state', () => {
    // At parallelism 2 the edges are real exchanges (at 1 they run as forward edges).
    const job = new Job({ name: 'limits', parallelism: 2 });
    job
      .source(fromCollection<Payment>([]), { uid: 'payments' })
      .keyBy('user')
      .connect(job.source(fromCollection(ruleList), { uid: 'rules' }).broadcast(rules, mapState<string, number>('limits')))
      .process(noop, { uid: 'check' })
      .sinkTo(collecting<string>().sink, { uid: 'out' });
    const text = job.explain();
    expect(text).toMatch(/task 3 x2 {2}<- hash from 'payments', broadcast from 'rules'\n\s+check\s+co-process\s+keyed, with broadcast state 'rules', 'limits'\s+\[stateful\]/);
    const step = job.graph.nodes.find((n) => n.uid === 'check')!;
    expect(step.inputs.map((e) => [e.from.uid, e.partitioner, e.input])).toEqual([
      ['payments', 'hash', 0],
      ['rules', 'broadcast', 1],
    ]);
  });
});

describe('the example of KeyedBroadcastProcessFunction (src/api/functions.ts)', () => {
  it('runs as written', async () => {
    // The doc comment's example, word for word between the markers, with a job around it.
    const job = newJob();
    const { sink, out } = collecting<string>();
    const payments = job.source(fromCollection<Payment>([{ user: 'ann', kind: 'card', amount: 500 }, { user: 'bob', kind: 'card', amount: 5 }]), { uid: 'payments' });
    const ruleStream = job.source(fromCollection([{ id: 'big', maxAmount: 100 }]), { uid: 'rules' });
    let alerts!: DataStream<string>;
    let fn!: KeyedBroadcastProcessFunction<string, { user: string; amount: number }, { id: string; maxAmount: number }, string>;
    {
      // ---- example ----
      interface Rule { id: string; maxAmount: number }
      interface Payment { user: string; amount: number }
      const rules = mapState<string, Rule>('rules');
      const tooLarge: KeyedBroadcastProcessFunction<string, Payment, Rule, string> = {
        processElement(p, ctx, out) {
          for (const rule of ctx.getBroadcastState(rules).values()) {
            if (p.amount > rule.maxAmount) out.collect(`${ctx.key} broke ${rule.id}`);
          }
        },
        processBroadcastElement(rule, ctx) {
          ctx.getBroadcastState(rules).put(rule.id, rule);
        },
      };
      alerts = payments.keyBy('user').connect(ruleStream.broadcast(rules)).process(tooLarge, { uid: 'too-large' });
      // ---- end ----
      fn = tooLarge;
    }
    alerts.sinkTo(sink);
    await expect(job.run()).resolves.toEqual({ status: 'finished' });
    // The inputs are not ordered: when ann's payment comes before the rule, nothing is said.
    expect(out.values.every((v) => v === 'ann broke big')).toBe(true);
    // With the rule first (the harness orders the inputs), ann's payment breaks it and bob's does not.
    const h = OperatorHarness.keyedBroadcastProcess(fn, (p: { user: string }) => p.user, [mapState('rules')]);
    h.processElement({ id: 'big', maxAmount: 100 }, Number.NaN, 1);
    h.processElement({ user: 'ann', amount: 500 }).processElement({ user: 'bob', amount: 5 });
    expect(h.values).toEqual(['ann broke big']);
  });
});
