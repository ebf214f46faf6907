package sluice.cepevents;

import java.lang.management.ManagementFactory;

/**
 * The events of bench/cep-events.ts, ported exactly (same keys, kinds and timestamps), for the Flink CEP
 * and Esper peers, and the JSON line each run prints. Both peers' poms add this folder as a
 * source folder (build-helper-maven-plugin), so the port exists once.
 */
public final class CepEvents {
  private CepEvents() {}

  /** One event: a POJO for Flink (public fields, no-arg constructor) and a bean for Esper (getters). */
  public static final class Ev {
    public int key;
    /** fraud: the amount; monitoring: 0 = A, 1 = B, 2 = other. */
    public int kind;
    public long at;

    public Ev() {}

    public int getKey() { return key; }
    public int getKind() { return kind; }
    public long getAt() { return at; }
  }

  /**
   * bench/cep.ts's spread(i, salt). StrictMath.sin is fdlibm, as V8's Math.sin is, so the values are
   * bit for bit those of Node.
   */
  static double spread(long i, int salt) {
    double x = StrictMath.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
    return x - Math.floor(x);
  }

  /** Event i of `workload` ("fraud" or "monitoring") over `keys` keys: each key sees an event every 30 s. */
  public static Ev make(String workload, long i, int keys) {
    Ev e = new Ev();
    e.key = (int) (i % keys);
    e.at = (i * 30_000L) / keys;
    if (workload.equals("fraud")) {
      double r = spread(i, 1);
      e.kind = r < 0.5 ? (int) Math.floor(spread(i, 2) * 10) : r < 0.55 ? 1000 : 100;
    } else {
      double r = spread(i, 3);
      e.kind = r < 0.3 ? 0 : r < 0.6 ? 1 : 2;
    }
    return e;
  }

  /** A checksum of the first n events, computed the same way by bench/cep-events.ts's `fingerprint`. */
  public static long fingerprint(String workload, long n, int keys) {
    long h = 0;
    for (long i = 0; i < n; i++) {
      Ev e = make(workload, i, keys);
      h = (h * 31 + e.key * 7L + e.kind * 13L + e.at) % 1_000_000_007L;
    }
    return h;
  }

  /** `java -cp target/classes sluice.cepevents.CepEvents fraud|monitoring N KEYS`: prints the fingerprint. */
  public static void main(String[] args) {
    System.out.println(fingerprint(args[0], Long.parseLong(args[1]), Integer.parseInt(args[2])));
  }

  /** CPU seconds this process has used since it started (all threads, user + system). */
  public static double processCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  /** One run of a workload on an engine: its match count. */
  public interface Run {
    long matches(String workload, long events, int keys, int run) throws Exception;
  }

  /**
   * A peer's main: `workload EVENTS KEYS [RUNS]`; runs the workload RUNS times (default 2) in this
   * JVM, so that later runs are warm, and reports each.
   */
  public static void runAll(String engine, String[] args, Run body) throws Exception {
    String workload = args[0];
    long events = Long.parseLong(args[1]);
    int keys = Integer.parseInt(args[2]);
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    for (int run = 1; run <= runs; run++) {
      double cpu0 = processCpuSeconds();
      long t0 = System.nanoTime();
      long matches = body.matches(workload, events, keys, run);
      report(engine, workload, run, events, (System.nanoTime() - t0) / 1e9, processCpuSeconds() - cpu0, matches);
    }
  }

  /** The line bench/cep.ts reads: one per run; processCpuSeconds includes the JVM's start-up and earlier runs. */
  static void report(String engine, String workload, int run, long events, double seconds, double cpuSeconds, long matches) {
    System.out.printf(java.util.Locale.ROOT,
        "{\"engine\":\"%s\",\"workload\":\"%s\",\"run\":%d,\"events\":%d,\"seconds\":%.4f,\"cpuSeconds\":%.4f,\"matches\":%d,\"processCpuSeconds\":%.4f}%n",
        engine, workload, run, events, seconds, cpuSeconds, matches, processCpuSeconds());
  }
}
