package sluice.nexmark;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Apache Flink beside Sluice: the same generated events (Generator, a port of the
 * TypeScript generator) and the same Nexmark queries in Flink SQL, on a local
 * mini-cluster with parallelism 1. Prints one JSON line like `sluice nexmark run`:
 * query, events, outputRows (rows of the changelog: updating queries count every
 * change), seconds and CPU seconds of the job's execution (the JVM's process CPU time).
 *
 * Usage: FlinkNexmark --query qN --events N [--seed S] [--rate R] [--ooo G] [--watermark-delay MS]
 *        FlinkNexmark --fingerprint  (prints the generator's fingerprint for seed 42, rate 10000, 100000 events)
 */
public final class FlinkNexmark {
  static final String[] PERSON_FIELDS = {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"};
  static final String[] AUCTION_FIELDS = {"id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category", "extra"};
  static final String[] BID_FIELDS = {"auction", "bidder", "price", "channel", "url", "dateTime", "extra"};
  static final TypeInformation<Row> PERSON = Types.ROW_NAMED(PERSON_FIELDS, Types.LONG, Types.STRING, Types.STRING, Types.STRING, Types.STRING,
      Types.STRING, Types.LONG, Types.STRING);
  static final TypeInformation<Row> AUCTION = Types.ROW_NAMED(AUCTION_FIELDS, Types.LONG, Types.STRING, Types.STRING, Types.LONG, Types.LONG,
      Types.LONG, Types.LONG, Types.LONG, Types.LONG, Types.STRING);
  static final TypeInformation<Row> BID = Types.ROW_NAMED(BID_FIELDS, Types.LONG, Types.LONG, Types.LONG, Types.STRING, Types.STRING, Types.LONG,
      Types.STRING);

  static final Map<String, String> SQL = new HashMap<>();

  static {
    SQL.put("q0", "SELECT auction, bidder, price, `dateTime`, extra FROM bid");
    SQL.put("q1", "SELECT auction, bidder, price * CAST(0.908 AS DOUBLE) AS price, `dateTime`, extra FROM bid");
    SQL.put("q2", "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0");
    SQL.put("q3", "SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN person AS P ON A.seller = P.id "
        + "WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')");
    SQL.put("q4", "SELECT Q.category, AVG(Q.final) AS avgPrice FROM ("
        + " SELECT MAX(B.price) AS final, A.category FROM auction A, bid B"
        + " WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires GROUP BY A.id, A.category) Q GROUP BY Q.category");
    String hop = "TABLE(HOP(TABLE bid, DESCRIPTOR(rowtime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))";
    SQL.put("q5", "SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.window_start AS windowStart, AuctionBids.window_end AS windowEnd FROM ("
        + " SELECT auction, COUNT(*) AS num, window_start, window_end FROM " + hop + " GROUP BY auction, window_start, window_end) AuctionBids"
        + " JOIN (SELECT MAX(num) AS maxn, window_start, window_end FROM ("
        + "   SELECT COUNT(*) AS num, window_start, window_end FROM " + hop + " GROUP BY auction, window_start, window_end)"
        + "   GROUP BY window_start, window_end) MaxBids"
        + " ON AuctionBids.window_start = MaxBids.window_start AND AuctionBids.window_end = MaxBids.window_end AND AuctionBids.num >= MaxBids.maxn");
    String tumble = "TABLE(TUMBLE(TABLE bid, DESCRIPTOR(rowtime), INTERVAL '10' SECOND))";
    SQL.put("q7", "SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra, B.window_end AS windowEnd FROM ("
        + " SELECT * FROM " + tumble + ") B JOIN ("
        + " SELECT MAX(price) AS maxprice, window_start, window_end FROM " + tumble + " GROUP BY window_start, window_end) W"
        + " ON B.window_start = W.window_start AND B.window_end = W.window_end AND B.price = W.maxprice");
    SQL.put("q8", "SELECT P.id, P.name, P.starttime AS windowStart FROM ("
        + " SELECT id, name, window_start AS starttime, window_end AS endtime FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(rowtime), INTERVAL '10' SECOND))"
        + " GROUP BY id, name, window_start, window_end) P JOIN ("
        + " SELECT seller, window_start AS starttime, window_end AS endtime FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(rowtime), INTERVAL '10' SECOND))"
        + " GROUP BY seller, window_start, window_end) A"
        + " ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime");
    SQL.put("q11", "SELECT bidder, COUNT(*) AS bidCount, window_start AS windowStart, window_end AS windowEnd"
        + " FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(rowtime), INTERVAL '10' SECOND)) GROUP BY bidder, window_start, window_end");
  }

  /** Counts the rows that reach it (an accumulator read after the job). */
  static final class CountRows extends RichMapFunction<Row, Boolean> {
    private final LongCounter rows = new LongCounter();

    @Override
    public void open(OpenContext ctx) {
      getRuntimeContext().addAccumulator("rows", rows);
    }

    @Override
    public Boolean map(Row r) {
      rows.add(1L);
      return Boolean.TRUE;
    }
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--fingerprint")) a.put("fingerprint", "1");
      else if (argv[i].startsWith("--") && i + 1 < argv.length) a.put(argv[i].substring(2), argv[++i]);
    }
    if (a.containsKey("fingerprint")) {
      System.out.println(new Generator(42, 1_700_000_000_000L, 10_000, 1).fingerprint(0, 100_000));
      return;
    }
    String query = a.getOrDefault("query", "q0");
    long events = Long.parseLong(a.getOrDefault("events", "1000000"));
    int seed = Integer.parseInt(a.getOrDefault("seed", "42"));
    double rate = Double.parseDouble(a.getOrDefault("rate", "10000000"));
    long ooo = Long.parseLong(a.getOrDefault("ooo", "1"));
    long baseTime = Long.parseLong(a.getOrDefault("base-time", "1700000000000"));
    long delay = Long.parseLong(a.getOrDefault("watermark-delay", "4000"));
    String sql = SQL.get(query);
    if (sql == null) throw new IllegalArgumentException("unknown query " + query);

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);

    OutputTag<Row> personTag = new OutputTag<>("person", PERSON);
    OutputTag<Row> auctionTag = new OutputTag<>("auction", AUCTION);
    SingleOutputStreamOperator<Row> bids = env.fromSequence(0, events - 1).process(new ProcessFunction<Long, Row>() {
      private transient Generator gen;

      @Override
      public void open(OpenContext ctx) {
        gen = new Generator(seed, baseTime, rate, ooo);
      }

      @Override
      public void processElement(Long n, Context ctx, Collector<Row> out) {
        switch (Generator.kindOf(n)) {
          case 0 -> {
            Generator.Person p = gen.person(n);
            ctx.output(personTag, Row.of(p.id(), p.name(), p.emailAddress(), p.creditCard(), p.city(), p.state(), p.dateTime(), p.extra()));
          }
          case 1 -> {
            Generator.Auction x = gen.auction(n);
            ctx.output(auctionTag, Row.of(x.id(), x.itemName(), x.description(), x.initialBid(), x.reserve(), x.dateTime(), x.expires(), x.seller(),
                x.category(), x.extra()));
          }
          default -> {
            Generator.Bid b = gen.bid(n);
            out.collect(Row.of(b.auction(), b.bidder(), b.price(), b.channel(), b.url(), b.dateTime(), b.extra()));
          }
        }
      }
    }, BID).name("nexmark-generator");
    register(tEnv, "bid", bids, 5, delay);
    register(tEnv, "person", bids.getSideOutput(personTag), 6, delay);
    register(tEnv, "auction", bids.getSideOutput(auctionTag), 5, delay);

    Table result = tEnv.sqlQuery(sql);
    tEnv.toChangelogStream(result).map(new CountRows()).sinkTo(new DiscardingSink<>());

    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    JobExecutionResult res = env.execute("nexmark-" + query);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
    Long rows = res.getAccumulatorResult("rows");
    System.out.printf("{\"query\":\"%s\",\"events\":%d,\"outputRows\":%d,\"seconds\":%.3f,\"eventsPerSecond\":%d,\"cpuSeconds\":%.3f,\"eventsPerCpuSecond\":%d}%n",
        query, events, rows == null ? 0 : rows, seconds, Math.round(events / seconds), cpuSeconds, Math.round(events / cpuSeconds));
  }

  private static void register(StreamTableEnvironment tEnv, String name, DataStream<Row> stream, int timeField, long delay) {
    DataStream<Row> timed = stream.assignTimestampsAndWatermarks(
        WatermarkStrategy.<Row>forBoundedOutOfOrderness(Duration.ofMillis(delay)).withTimestampAssigner((r, ts) -> (Long) r.getField(timeField)));
    tEnv.createTemporaryView(name, tEnv.fromDataStream(timed,
        Schema.newBuilder().columnByMetadata("rowtime", "TIMESTAMP_LTZ(3)").watermark("rowtime", "SOURCE_WATERMARK()").build()));
  }
}
