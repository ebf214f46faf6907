import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single OpenSearch node with the netty4 HTTP transport, from Maven Central jars
 * (scripts/opensearch/start.sh). Arguments: home folder, HTTP port, transport port.
 * Disk thresholds are off: a test machine with a nearly full disk would otherwise make
 * every index read-only.
 */
public class SluiceOpenSearchNode extends Node {
  SluiceOpenSearchNode(Settings settings) {
    super(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "sluice"), List.of(Netty4Plugin.class), true);
  }

  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]);
    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("path.data", home.resolve("data").toString())
        .put("path.logs", home.resolve("logs").toString())
        .put("cluster.name", "sluice")
        .put("node.name", "sluice")
        .put("discovery.type", "single-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", args.length > 1 ? args[1] : "9200")
        .put("transport.port", args.length > 2 ? args[2] : "9300")
        .put("http.type", "netty4")
        .put("transport.type", "netty4")
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .build();
    Node node = new SluiceOpenSearchNode(settings);
    node.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> { try { node.close(); } catch (Exception e) { } }));
    Thread.currentThread().join();
  }
}
