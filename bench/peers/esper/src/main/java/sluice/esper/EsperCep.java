package sluice.esper;

import com.espertech.esper.common.client.EPCompiled;
import com.espertech.esper.common.client.configuration.Configuration;
import com.espertech.esper.compiler.client.CompilerArguments;
import com.espertech.esper.compiler.client.EPCompilerProvider;
import com.espertech.esper.runtime.client.EPEventService;
import com.espertech.esper.runtime.client.EPRuntime;
import com.espertech.esper.runtime.client.EPRuntimeProvider;
import com.espertech.esper.runtime.client.EPStatement;

import sluice.cepevents.CepEvents;
import sluice.cepevents.CepEvents.Ev;

/**
 * The bench:cep peer on Esper 8 (bench/cep.ts): the two patterns of issue 22 as compiled EPL over
 * the events of bench/cep.ts (CepEvents), on one thread, with external (event) time: the clock
 * moves to each event's timestamp before the event is sent.
 *
 *   java -cp target/classes:target/lib/* sluice.esper.EsperCep fraud|monitoring EVENTS KEYS [RUNS]
 *
 * Runs RUNS times (default 2) in one JVM, each on a new runtime, so that later runs are warm;
 * prints one JSON line per run (CepEvents.report). Compiling the EPL is in the run.
 */
public final class EsperCep {
  /**
   * Fraud as match_recognize: per card, three small amounts then a large one, skip past the last
   * row, the large one less than 10 minutes after the first small one. The N variables are the
   * events Flink's and Sluice's relaxed contiguity skip: between the small ones, any that is not
   * small; before the large one, any that is not large. (Esper's `every (a -> b -> c -> d)`
   * pattern keeps one attempt at a time, so it finds fewer matches than the other two engines.)
   */
  static final String FRAUD = """
      @name('out') select * from Ev
      match_recognize (
        partition by key
        measures S1.at as started
        after match skip past last row
        pattern (S1 N1* S2 N2* S3 N3* L)
        define
          S1 as S1.kind < 10, N1 as N1.kind >= 10,
          S2 as S2.kind < 10, N2 as N2.kind >= 10,
          S3 as S3.kind < 10, N3 as N3.kind < 500,
          L as L.kind >= 500 and L.at - S1.at < 600000
      )""";

  /** Monitoring: an A that no B of its key follows within 5 s, reported when the 5 s run out. */
  static final String MONITORING = """
      @name('out') select a.key as key from pattern [
        every a=Ev(kind = 0) -> (timer:interval(5 sec) and not Ev(kind = 1, key = a.key))
      ]""";

  public static void main(String[] args) throws Exception {
    CepEvents.runAll("esper", args, EsperCep::run);
  }

  static long run(String workload, long events, int keys, int run) throws Exception {
    Configuration config = new Configuration();
    config.getCommon().addEventType("Ev", Ev.class);
    config.getRuntime().getThreading().setInternalTimerEnabled(false);
    EPCompiled compiled = EPCompilerProvider.getCompiler()
        .compile(workload.equals("fraud") ? FRAUD : MONITORING, new CompilerArguments(config));
    EPRuntime runtime = EPRuntimeProvider.getRuntime("bench-cep-" + workload + "-" + run, config);
    try {
      EPEventService service = runtime.getEventService();
      service.advanceTime(0);
      EPStatement out = runtime.getDeploymentService().deploy(compiled).getStatements()[0];
      long[] matches = {0};
      out.addListener((newEvents, oldEvents, statement, rt) -> matches[0] += newEvents == null ? 0 : newEvents.length);
      long now = 0;
      for (long i = 0; i < events; i++) {
        Ev e = CepEvents.make(workload, i, keys);
        if (e.at != now) service.advanceTime(now = e.at);
        service.sendEventBean(e, "Ev");
      }
      // The end of input, as the final watermark in the other engines: every pending 5 s runs out.
      service.advanceTime(now + 5_000);
      return matches[0];
    } finally {
      runtime.destroy();
    }
  }
}
