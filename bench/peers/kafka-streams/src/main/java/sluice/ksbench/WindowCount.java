package sluice.ksbench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of bench/cluster: JSON records {key, ts, value} from a topic that
 * is not partitioned by key, counted per key in 1 s tumbling event-time windows (event time
 * from {@code ts}, grace {@code --grace-ms}), one final result per window
 * ({@code suppress(untilWindowCloses)}) written as {key, windowStart, count} to the output
 * topic, keyed by key, with exactly_once_v2. Runs until SIGTERM.
 *
 * <p>Arguments: --brokers B --input T --output T --app-id ID [--threads N] [--grace-ms G]
 * [--commit-ms C] [--store memory|rocksdb] [--state-dir DIR].
 */
public final class WindowCount {
  /** An input record, as the generator in bench/cluster/input.ts writes it. */
  public static final class Event {
    public String key;
    public long ts;
    public long value;
  }

  /** An output record: the final count of one key's window. */
  public static final class Result {
    public final String key;
    public final long windowStart;
    public final long count;

    Result(String key, long windowStart, long count) {
      this.key = key;
      this.windowStart = windowStart;
      this.count = count;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final ObjectReader EVENT_READER = JSON.readerFor(Event.class);
  private static final ObjectWriter EVENT_WRITER = JSON.writerFor(Event.class);
  private static final ObjectWriter RESULT_WRITER = JSON.writerFor(Result.class);

  static Serde<Event> eventSerde() {
    return Serdes.serdeFrom(
        (topic, event) -> {
          try {
            return EVENT_WRITER.writeValueAsBytes(event);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return EVENT_READER.readValue(bytes);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  static Map<String, String> parseArgs(String[] args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected --name value, got " + args[i]);
      out.put(args[i].substring(2), args[i + 1]);
    }
    for (String required : new String[] {"brokers", "input", "output", "app-id"}) {
      if (!out.containsKey(required)) throw new IllegalArgumentException("missing --" + required);
    }
    return out;
  }

  public static void main(String[] argv) throws InterruptedException {
    Map<String, String> a = parseArgs(argv);
    long graceMs = Long.parseLong(a.getOrDefault("grace-ms", "0"));
    Duration size = Duration.ofSeconds(1);
    Serde<Event> events = eventSerde();

    StreamsBuilder builder = new StreamsBuilder();
    Materialized<String, Long, org.apache.kafka.streams.state.WindowStore<org.apache.kafka.common.utils.Bytes, byte[]>> store =
        "rocksdb".equals(a.getOrDefault("store", "memory"))
            ? Materialized.as("counts")
            : Materialized.as(Stores.inMemoryWindowStore("counts", size.plusMillis(graceMs), size, false));
    builder.stream(a.get("input"), Consumed.with(Serdes.String(), events).withTimestampExtractor((r, partitionTime) -> ((Event) r.value()).ts))
        .groupBy((k, e) -> e.key, Grouped.with("by-key", Serdes.String(), events))
        .windowedBy(TimeWindows.ofSizeAndGrace(size, Duration.ofMillis(graceMs)))
        .count(store.withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, count) -> {
          try {
            return KeyValue.pair(w.key(), RESULT_WRITER.writeValueAsString(new Result(w.key(), w.window().start(), count)));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        })
        .to(a.get("output"), Produced.with(Serdes.String(), Serdes.String()));

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("app-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("brokers"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.getOrDefault("threads", "1")));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(a.getOrDefault("commit-ms", "100")));
    p.put(StreamsConfig.STATE_DIR_CONFIG, a.getOrDefault("state-dir", System.getProperty("java.io.tmpdir") + "/ksbench-" + a.get("app-id")));
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> System.err.println("kafka-streams: " + before + " -> " + now));
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("kafka-streams: uncaught " + e);
      e.printStackTrace();
      stopped.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(20));
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
    streams.close(Duration.ofSeconds(20));
  }
}
