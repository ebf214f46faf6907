package sluice.cep;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.MalformedPatternException;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * Apache Flink CEP over the events and patterns Sluice's differential test writes
 * (test/cep/flink-differential.test.ts, scripts/cep-flink-diff.ts):
 *
 *   java -cp target/classes:target/lib/* sluice.cep.FlinkCep EVENTS PATTERNS OUT
 *
 * EVENTS: one event a line, `key TAB i TAB letter TAB timestamp`, in arrival order.
 * PATTERNS: one pattern a line, `skip|skipName|withinMs|stage|stage…`, a stage being
 * `name:contiguity:where:or:times:flags:until` (conditions: the set of letters the event's
 * letter is in, `-` for none; times `-`, `n`, `n-m` or `n+`; flags o=optional, g=greedy,
 * c=consecutive, a=allowCombinations).
 * OUT: one match a line, `pattern TAB key TAB stage=i,i stage=i…`; a pattern Flink refuses as
 * `pattern TAB REFUSED TAB message`.
 *
 * Event time, timestamps as given, monotonous watermarks, parallelism 1: every pattern on
 * the same keyed stream in one job.
 */
public final class FlinkCep {
  /** One event: its key, position in the input, letter and timestamp. */
  public static final class Ev {
    public String k;
    public int i;
    public String l;
    public long t;

    public Ev() {}

    Ev(String k, int i, String l, long t) {
      this.k = k;
      this.i = i;
      this.l = l;
      this.t = t;
    }
  }

  public static void main(String[] args) throws Exception {
    List<Ev> events = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new FileReader(args[0]))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] f = line.split("\t");
        events.add(new Ev(f[0], Integer.parseInt(f[1]), f[2], Long.parseLong(f[3])));
      }
    }
    List<String> specs = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new FileReader(args[1]))) {
      for (String line; (line = r.readLine()) != null; ) if (!line.isEmpty()) specs.add(line);
    }

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    KeyedStream<Ev, String> keyed = env.fromData(events)
        .assignTimestampsAndWatermarks(WatermarkStrategy.<Ev>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.t))
        .keyBy(e -> e.k);
    DataStream<String> all = null;
    List<String> refused = new ArrayList<>();
    for (int p = 0; p < specs.size(); p++) {
      final int id = p;
      Pattern<Ev, Ev> pattern;
      try {
        pattern = parse(specs.get(p));
      } catch (MalformedPatternException | IllegalArgumentException e) {
        refused.add(id + "\tREFUSED\t" + e.getMessage());
        continue;
      }
      DataStream<String> out = CEP.pattern(keyed, pattern).process(new PatternProcessFunction<Ev, String>() {
        @Override
        public void processMatch(Map<String, List<Ev>> match, Context ctx, Collector<String> out) {
          StringBuilder sb = new StringBuilder();
          String key = null;
          for (Map.Entry<String, List<Ev>> e : match.entrySet()) {
            if (sb.length() > 0) sb.append(' ');
            sb.append(e.getKey()).append('=');
            for (int j = 0; j < e.getValue().size(); j++) {
              Ev ev = e.getValue().get(j);
              key = ev.k;
              if (j > 0) sb.append(',');
              sb.append(ev.i);
            }
          }
          out.collect(id + "\t" + key + "\t" + sb);
        }
      });
      all = all == null ? out : all.union(out);
    }
    long started = System.nanoTime();
    try (PrintWriter w = new PrintWriter(args[2])) {
      for (String r : refused) w.println(r);
      if (all != null) {
        try (CloseableIterator<String> it = all.executeAndCollect()) {
          while (it.hasNext()) w.println(it.next());
        }
      }
    }
    System.err.println("flink-cep: " + events.size() + " events, " + specs.size() + " patterns in " + (System.nanoTime() - started) / 1_000_000 + " ms");
  }

  /** A pattern from its line. */
  static Pattern<Ev, Ev> parse(String line) {
    String[] f = line.split("\\|");
    AfterMatchSkipStrategy skip;
    switch (f[0]) {
      case "no-skip": skip = AfterMatchSkipStrategy.noSkip(); break;
      case "skip-to-next": skip = AfterMatchSkipStrategy.skipToNext(); break;
      case "skip-past-last-event": skip = AfterMatchSkipStrategy.skipPastLastEvent(); break;
      case "skip-to-first": skip = AfterMatchSkipStrategy.skipToFirst(f[1]); break;
      case "skip-to-last": skip = AfterMatchSkipStrategy.skipToLast(f[1]); break;
      default: throw new IllegalArgumentException("skip " + f[0]);
    }
    Pattern<Ev, Ev> p = null;
    for (int s = 3; s < f.length; s++) {
      String[] st = f[s].split(":", -1);
      String name = st[0];
      String contig = st[1];
      if (p == null) p = Pattern.<Ev>begin(name, skip);
      else {
        switch (contig) {
          case "next": p = p.next(name); break;
          case "followedBy": p = p.followedBy(name); break;
          case "followedByAny": p = p.followedByAny(name); break;
          case "notNext": p = p.notNext(name); break;
          case "notFollowedBy": p = p.notFollowedBy(name); break;
          default: throw new IllegalArgumentException("contiguity " + contig);
        }
      }
      if (!st[2].equals("-")) p = p.where(letters(st[2]));
      if (!st[3].equals("-")) p = p.or(letters(st[3]));
      String times = st[4];
      if (times.endsWith("+")) {
        int n = Integer.parseInt(times.substring(0, times.length() - 1));
        p = n == 1 ? p.oneOrMore() : p.timesOrMore(n);
      } else if (times.contains("-") && !times.equals("-")) {
        String[] r = times.split("-");
        p = p.times(Integer.parseInt(r[0]), Integer.parseInt(r[1]));
      } else if (!times.equals("-")) {
        p = p.times(Integer.parseInt(times));
      }
      String flags = st[5];
      if (flags.contains("o")) p = p.optional();
      if (flags.contains("c")) p = p.consecutive();
      if (flags.contains("a")) p = p.allowCombinations();
      if (flags.contains("g")) p = p.greedy();
      if (!st[6].equals("-")) p = p.until(letters(st[6]));
    }
    if (!f[2].equals("-")) p = p.within(Duration.ofMillis(Long.parseLong(f[2])));
    return p;
  }

  static SimpleCondition<Ev> letters(String set) {
    return SimpleCondition.of(e -> set.contains(e.l));
  }
}
