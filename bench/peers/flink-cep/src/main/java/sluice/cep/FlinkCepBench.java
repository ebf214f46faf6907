package sluice.cep;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import sluice.cepevents.CepEvents;
import sluice.cepevents.CepEvents.Ev;

/**
 * The bench:cep peer on Flink CEP (bench/cep.ts): the two patterns of issue 22 over the events
 * of bench/cep.ts (CepEvents), in event time as fast as the source goes, a local mini-cluster
 * at parallelism 1:
 *
 *   java -cp target/classes:target/lib/* sluice.cep.FlinkCepBench fraud|monitoring EVENTS KEYS [RUNS]
 *
 * Runs the job RUNS times (default 2) in one JVM, so that later runs are warm; prints one JSON
 * line per run (CepEvents.report). Each run starts its own mini-cluster, whose start is in the run.
 */
public final class FlinkCepBench {
  public static void main(String[] args) throws Exception {
    CepEvents.runAll("flink", args, (workload, events, keys, run) -> run(workload, events, keys));
  }

  /** The patterns of bench/cep.ts, written as its Sluice patterns are. */
  static Pattern<Ev, Ev> pattern(String workload) {
    if (workload.equals("fraud")) {
      return Pattern.<Ev>begin("small", AfterMatchSkipStrategy.skipPastLastEvent())
          .where(SimpleCondition.of(e -> e.kind < 10))
          .times(3)
          .followedBy("large")
          .where(SimpleCondition.of(e -> e.kind >= 500))
          .within(Duration.ofMinutes(10));
    }
    return Pattern.<Ev>begin("a")
        .where(SimpleCondition.of(e -> e.kind == 0))
        .notFollowedBy("b")
        .where(SimpleCondition.of(e -> e.kind == 1))
        .within(Duration.ofSeconds(5));
  }

  static long run(String workload, long events, int keys) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    env.getConfig().enableObjectReuse();
    var keyed = env.fromSequence(0, events - 1)
        .map(i -> CepEvents.make(workload, i, keys))
        .returns(Ev.class)
        .assignTimestampsAndWatermarks(WatermarkStrategy.<Ev>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.at))
        .keyBy(e -> e.key);
    CEP.pattern(keyed, pattern(workload)).inEventTime().process(new PatternProcessFunction<Ev, Long>() {
      @Override
      public void processMatch(Map<String, List<Ev>> match, Context ctx, Collector<Long> out) {
        out.collect(1L);
      }
    }).map(new RichMapFunction<Long, Long>() {
      // CEP's own context refuses accumulators, so the matches are counted one step later.
      private final LongCounter matches = new LongCounter();

      @Override
      public void open(OpenContext ctx) {
        getRuntimeContext().addAccumulator("matches", matches);
      }

      @Override
      public Long map(Long one) {
        matches.add(one);
        return one;
      }
    }).sinkTo(new DiscardingSink<>());
    JobExecutionResult result = env.execute("bench-cep-" + workload);
    Long matches = result.getAccumulatorResult("matches");
    return matches == null ? 0 : matches;
  }
}
